"""A lead's index entries: the items besides the lead itself that let ``GET /leads`` answer
from an index whatever its filters, sort and search (``LeadIndexKeys``). Every write of a lead
writes the changes of its entries in the same transaction (``entry_writes``), so the indexes
are never behind the lead; a lead's delete deletes them with it.

Per lead: 7 order entries (one per sort field, each in up to four BY indexes), at most
``search_tokens.MAX_TOKENS`` token entries and up to 2 match entries (its phone's and its name
and company's: ``match_keys``; its email is matched through LOOKUP): at most 25 items, so a
transaction of 100 holds a lead, its entries and its counters with room to spare, and an import
chunk holds 3 leads (each with its history's first entry). A change of the lead's email also
writes one past-email item (``past_email_writes``), which erasures find; so does a merge, of
each merged-away lead's email (``merged_away_writes``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leads_shared.data.dynamo import to_item
from leads_shared.keys import ORDER_FIELDS, LeadIndexKeys, PastEmailKeys
from leads_shared.match_keys import ENTRY_KINDS, email_key, lead_match_keys
from leads_shared.search_tokens import MAX_TOKENS, lead_tokens

if TYPE_CHECKING:
    from leads_shared.models.leads import Lead

MAX_ENTRIES = len(ORDER_FIELDS) + MAX_TOKENS + len(ENTRY_KINDS)
# The lead item's marker of "written with its entries", and which entries: 1, order and token
# entries; 2, match entries too. A lead marked with less (or not at all: older than the
# entries) gets them whole at its next write, or from the backfill (``index_backfill``).
ENTRIES_MARKER = "entries"
ENTRIES_VERSION = 2


def entries(lead: Lead) -> dict[str, dict[str, Any]]:
    """The lead's entries (stored items), by sort key."""
    found = {f"{LeadIndexKeys.ORDER}{field}": LeadIndexKeys.order_keys(lead, field) for field in ORDER_FIELDS}
    for token in lead_tokens(lead):
        found[f"{LeadIndexKeys.TOKEN}{token}"] = LeadIndexKeys.token_keys(lead.tenant_id, lead.id, token)
    for kind, value in lead_match_keys(lead).items():
        if kind in ENTRY_KINDS:
            found[f"{LeadIndexKeys.MATCH}{kind}"] = LeadIndexKeys.match_keys(
                lead.tenant_id, lead.id, kind, value
            )
    return {sort_key: to_item(values) for sort_key, values in found.items()}


def entry_writes(table: str, before: Lead | None, after: Lead | None) -> list[dict[str, Any]]:
    """Transaction items that turn ``before``'s entries into ``after``'s (None: no lead): a
    Put of each of ``after``'s entries, a Delete of each of ``before``'s that is gone.

    Every entry of ``after`` is written, changed or not: a lead stored before the entries
    existed has none (until the backfill reaches it), and its next write must leave it whole.
    The cost: a lead's update writes its ~10-25 small entries (measured in docs/data-model.md)."""
    old = entries(before) if before is not None else {}
    new = entries(after) if after is not None else {}
    writes: list[dict[str, Any]] = [{"Put": {"TableName": table, "Item": item}} for item in new.values()]
    writes += [
        {"Delete": {"TableName": table, "Key": {"PK": item["PK"], "SK": item["SK"]}}}
        for key, item in old.items()
        if key not in new
    ]
    return writes + past_email_writes(table, before, after)


def past_email_writes(table: str, before: Lead | None, after: Lead | None) -> list[dict[str, Any]]:
    """A Put of the lead's past-email item (``PastEmailKeys``) when its email changes away from an
    address (any case): the lead's history now holds an address the lead no longer has, and an
    erasure of that address finds the lead through it. Not an index entry: a delete to the trash
    keeps it, a removal for good takes it with the partition."""
    lost = email_key(before.email) if before is not None else None
    if after is None or lost is None or lost == email_key(after.email):
        return []
    return [_past_email_put(table, after, lost)]


def merged_away_writes(table: str, lead: Lead) -> list[dict[str, Any]]:
    """A Put of the past-email item of the lead's own email, for a lead whose item leaves every
    index but is kept (merged away: its ``MERGED`` item holds the address, which no LOOKUP names
    any more): an erasure of the address finds it through it. An undo leaves the item (the
    lead's history holds the address)."""
    address = email_key(lead.email)
    return [_past_email_put(table, lead, address)] if address is not None else []


def _past_email_put(table: str, lead: Lead, address: str) -> dict[str, Any]:
    item = to_item(PastEmailKeys.keys(lead.tenant_id, lead.id, address))
    return {"Put": {"TableName": table, "Item": item}}


def is_entry(sort_key: str) -> bool:
    """Whether an item of a lead's partition is one of its index entries."""
    return sort_key.startswith((LeadIndexKeys.ORDER, LeadIndexKeys.TOKEN, LeadIndexKeys.MATCH))
