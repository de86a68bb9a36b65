"""A lead's likely duplicates (``GET /leads/{id}/duplicates``): the tenant's leads and contacts
that share a match key with it (``match_keys``), best first.

Found by indexes, never by reading the tenant's leads: the lead (GetItem, consistent), one Query
per match key it has (the email's LOOKUP partition: leads and contacts; the phone's and the name
and company's match partitions: lead ids), and one BatchGetItem of the leads named by id. Each
key's read stops at ``READ_PER_KEY`` items, so a phone shared by thousands costs what one shared
by 50 does (the answer is then the best of those read).

What is left out: the lead itself; the contact it was qualified into (its own conversion, not a
duplicate); leads in the recycle bin (they have no index entries or LOOKUP key) and other
tenants' (every partition is the tenant's). Every candidate's reasons are worked out again from
its own values: an index behind a write (indexes are eventually consistent) cannot make a false
match, only miss one for a moment. Contacts are found by email only (they have no phone or name
entries, and their company is a record, not a name on them); once found, a same phone counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leads_shared.errors import NotFound
from leads_shared.match_keys import lead_match_keys, match_keys, score, shared_kinds
from leads_shared.models.leads import Duplicate

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.lead_store import LeadStore

MAX_DUPLICATES = 50
READ_PER_KEY = MAX_DUPLICATES + 1  # the lead itself is in its own partitions


def find_duplicates(principal: Principal, lead_id: int, store: LeadStore) -> list[Duplicate]:
    """The lead's duplicates, best first (score, then id), at most ``MAX_DUPLICATES``."""
    lead = store.get(principal.tenant_id, lead_id)
    if lead is None:
        raise NotFound("Lead")
    ours = lead_match_keys(lead)
    if not ours:
        return []
    found = store.match_candidates(principal.tenant_id, ours, per_key=READ_PER_KEY)
    duplicates: list[Duplicate] = []
    for other in found.leads:
        reasons = shared_kinds(ours, lead_match_keys(other))
        if other.id != lead.id and reasons:
            values = other.model_dump(
                include={"id", "first_name", "last_name", "email", "phone", "company", "status"}
            )
            duplicates.append(Duplicate(**values, type="lead", reasons=reasons, score=score(reasons)))
    for contact in found.contacts:
        theirs = match_keys(contact.first_name, contact.last_name, contact.email, contact.phone, None)
        reasons = shared_kinds(ours, theirs)
        if contact.id != lead.contact_id and reasons:
            values = contact.model_dump(include={"id", "first_name", "last_name", "email", "phone"})
            duplicates.append(
                Duplicate(
                    **values, company=None, status=None, type="contact", reasons=reasons, score=score(reasons)
                )
            )
    duplicates.sort(key=lambda d: (-d.score, d.id, d.type != "lead"))
    return duplicates[:MAX_DUPLICATES]
