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
Known window: the indexes are eventually consistent and the check reads before the write, so two
writes racing with one email (or phone, or name and company) can both pass ``reject``; the
duplicates route finds them afterwards (docs/behaviour.md, "Duplicates at the door").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leads_shared.duplicates import MAX_DUPLICATES, READ_PER_KEY
from leads_shared.errors import DuplicatesFound
from leads_shared.match_keys import KINDS, lead_match_keys, score
from leads_shared.models.leads import DuplicateRef

if TYPE_CHECKING:
    from leads_shared.data.lead_store import LeadStore
    from leads_shared.models.leads import Lead, OnDuplicate


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
                why = [kind for kind in KINDS if kind in record.kinds]
                found.append(DuplicateRef(id=record.id, type=record.type, reasons=why, score=score(why)))
        found.sort(key=lambda d: (-d.score, d.id, d.type != "lead"))
        self.found = found[:MAX_DUPLICATES]
        refused = [d for d in self.found if put_in_place.intersection(d.reasons)]
        if self._on_duplicate == "reject" and refused:
            raise DuplicatesFound([d.model_dump() for d in refused])
