"""Duplicates at the door: what a lead's create, ``PUT`` or restore learns about the lead's likely
duplicates, and (``on_duplicate=reject``) refuses.

A write that puts match keys in place (``match_keys``: a create, a restore, a ``PUT`` that
changes the email, the phone, the names or the company) looks for the tenant's leads and
contacts sharing them, right before its write: one Query per key the lead has (the email's
LOOKUP partition, the phone's and the name and company's match partitions), at most
``READ_PER_KEY`` items each, and nothing else: no read of the leads named (unlike ``GET
/leads/{id}/duplicates``, which reads them to show them), never the tenant's leads. A ``PUT``
that changes no match key reads nothing (the lead's duplicates are what they were).

- ``allow`` (the default): the write goes on; the answer tells how many were found
  (``X-Possible-Duplicates``, with a ``Link`` to the lead's duplicates).
- ``reject``: when one of them shares a key the write puts in place (every key, for a create
  or a restore; the changed ones, for a ``PUT``: a duplicate by a phone the lead had already
  does not block fixing its name), 409 naming them, nothing written.

What is left out, as ``GET /leads/{id}/duplicates`` leaves it out: the lead itself, the contact
it was qualified into, leads in the recycle bin (they have no index entries or LOOKUP key).
Races. The indexes are eventually consistent (a lead written a moment ago may not show yet) and
the check reads before the write, so the reads alone let two racing writes both pass ``reject``.
A create with ``reject`` therefore also holds its lead's match keys (``KeyClaims``, one item per
key, put in its lead's transaction on condition that no other create holds the key) for
``CLAIM_SECONDS``, far longer than the indexes take to show its lead: of rejecting creates racing
with one email (or phone, or name and company), exactly one is written; the others get the 409
naming it. A hold whose lead is gone or no longer has the key is taken over. What stays open
(docs/behaviour.md, "Duplicates at the door"): a rejecting create racing with a create that
allows duplicates (which holds nothing: it would pay for every create), and a ``PUT`` or a
restore with ``reject`` racing with any write (they read the indexes only).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal

from leads_shared.data.lead_store import KeyClaims, KeysClaimed
from leads_shared.duplicates import MAX_DUPLICATES, READ_PER_KEY
from leads_shared.errors import Conflict, DuplicatesFound
from leads_shared.match_keys import KINDS, lead_match_keys, score
from leads_shared.models.leads import DuplicateRef

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from leads_shared.data.lead_store import LeadStore
    from leads_shared.models.leads import Lead, OnDuplicate

# How long a rejecting create holds its lead's match keys: many times what the indexes take to
# show a new lead (well under a second).
CLAIM_SECONDS = 60
# Writes of a create that found holds stale (each taken over on condition that it is unchanged).
CLAIM_ATTEMPTS = 3


def duplicate(record_id: int, kind: Literal["lead", "contact"], reasons: Iterable[str]) -> DuplicateRef:
    """A duplicate named by ``reasons`` (in ``KINDS`` order), with its score."""
    why = [reason for reason in KINDS if reason in reasons]
    return DuplicateRef(id=record_id, type=kind, reasons=why, score=score(why))


class DuplicateCheck:
    """Handed to a lead's write (``create_lead``, ``update_lead``, ``restore_lead``), which calls
    ``before_write`` once per attempt; ``found`` is then the last attempt's answer."""

    def __init__(self, store: LeadStore, on_duplicate: OnDuplicate = "allow") -> None:
        self._store = store
        self._on_duplicate = on_duplicate
        self.found: list[DuplicateRef] | None = None  # None: not looked for (no key put in place)

    def before_write(self, lead: Lead, stored: Lead | None, *, indexed: bool = True) -> None:
        """Look for ``lead``'s duplicates before it is written over ``stored`` (None: it enters
        the indexes, a create or a restore). ``indexed``: ``lead.id`` is its own (not a create's
        tentative id, which a racing create may hold), so an index item of it is left out.
        ``DuplicatesFound`` when ``reject`` refuses the write."""
        ours = lead_match_keys(lead)
        before = lead_match_keys(stored) if stored is not None else {}
        put_in_place = {kind for kind, key in ours.items() if before.get(kind) != key}
        if not put_in_place:
            self.found = None
            return
        found = []
        for record in self._store.match_ids(lead.tenant_id, ours, per_key=READ_PER_KEY):
            if record.type == "lead":
                own = indexed and record.id == lead.id
            else:
                own = record.id == lead.contact_id
            if not own:
                found.append(duplicate(record.id, record.type, record.kinds))
        self._answer(found, put_in_place)

    def _answer(self, found: list[DuplicateRef], put_in_place: set[str]) -> None:
        """Keep ``found`` best first; with ``reject``, refuse those sharing a key put in place
        (picked before the cut to ``MAX_DUPLICATES``: 50 better duplicates by a key the lead had
        already must not hide one by the key a ``PUT`` puts in place)."""
        found.sort(key=lambda d: (-d.score, d.id, d.type != "lead"))
        self.found = found[:MAX_DUPLICATES]
        refused = [d for d in found if put_in_place.intersection(d.reasons)][:MAX_DUPLICATES]
        if self._on_duplicate == "reject" and refused:
            raise DuplicatesFound([d.model_dump() for d in refused])

    def write_holding_keys(self, lead: Lead, write: Callable[[KeyClaims | None], None]) -> None:
        """Run a create's ``write`` (after ``before_write``). With ``reject``, the write holds the
        lead's match keys (``KeyClaims``); when another create holds one, its lead is read
        (consistently, one GetItem per holder): live with the key, the create is refused (409
        naming it); gone or without it, the hold is taken over and the write tried again."""
        keys = lead_match_keys(lead)
        if self._on_duplicate != "reject" or not keys:
            write(None)
            return
        stale: Mapping[str, int] = {}
        for _ in range(CLAIM_ATTEMPTS):
            now = int(time.time())
            try:
                write(KeyClaims(keys, now, now + CLAIM_SECONDS, stale))
                return
            except KeysClaimed as held:
                self._refuse_live_holders(lead.tenant_id, keys, held.holders)
                stale = held.holders
        raise Conflict("The lead's duplicates could not be checked. Please retry.")

    def _refuse_live_holders(
        self, tenant_id: str, keys: Mapping[str, str], holders: Mapping[str, int]
    ) -> None:
        """Refuse the create when a holder of its keys is a live lead that has the key."""
        reasons: dict[int, list[str]] = {}
        for lead_id in sorted(set(holders.values())):
            holder = self._store.get(tenant_id, lead_id)
            theirs = lead_match_keys(holder) if holder is not None else {}
            shared = [
                kind
                for kind, held_by in holders.items()
                if held_by == lead_id and theirs.get(kind) == keys[kind]
            ]
            if shared:
                reasons[lead_id] = shared
        found = [duplicate(lead_id, "lead", kinds) for lead_id, kinds in reasons.items()]
        if found:
            self._answer(found, set(keys))
