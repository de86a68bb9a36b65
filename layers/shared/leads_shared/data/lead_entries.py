"""A lead's index entries: the items besides the lead itself that let ``GET /leads`` answer
from an index whatever its filters, sort and search (``LeadIndexKeys``). Every write of a lead
writes the changes of its entries in the same transaction (``entry_writes``), so the indexes
are never behind the lead; a lead's delete deletes them with it.

Per lead: 7 order entries (one per sort field, each in up to four BY indexes) and at most
``search_tokens.MAX_TOKENS`` token entries: at most 23 items, so a transaction of 100 holds a
lead, its entries and its counters with room to spare, and an import chunk holds 4 leads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leads_shared.data.dynamo import to_item
from leads_shared.keys import ORDER_FIELDS, LeadIndexKeys
from leads_shared.search_tokens import MAX_TOKENS, lead_tokens

if TYPE_CHECKING:
    from leads_shared.models.leads import Lead

MAX_ENTRIES = len(ORDER_FIELDS) + MAX_TOKENS
# The lead item's marker of "written with its entries" (leads older than the entries have
# none, until the backfill writes theirs: ``index_backfill``).
ENTRIES_MARKER = "entries"
ENTRIES_VERSION = 1


def entries(lead: Lead) -> dict[str, dict[str, Any]]:
    """The lead's entries (stored items), by sort key."""
    found = {f"{LeadIndexKeys.ORDER}{field}": LeadIndexKeys.order_keys(lead, field) for field in ORDER_FIELDS}
    for token in lead_tokens(lead):
        found[f"{LeadIndexKeys.TOKEN}{token}"] = LeadIndexKeys.token_keys(lead.tenant_id, lead.id, token)
    return {sort_key: to_item(values) for sort_key, values in found.items()}


def entry_writes(table: str, before: Lead | None, after: Lead | None) -> list[dict[str, Any]]:
    """Transaction items that turn ``before``'s entries into ``after``'s (None: no lead): a
    Put of each of ``after``'s entries, a Delete of each of ``before``'s that is gone.

    Every entry of ``after`` is written, changed or not: a lead stored before the entries
    existed has none (until the backfill reaches it), and its next write must leave it whole.
    The cost: a lead's update writes its ~10-23 small entries (measured in docs/data-model.md)."""
    old = entries(before) if before is not None else {}
    new = entries(after) if after is not None else {}
    writes: list[dict[str, Any]] = [{"Put": {"TableName": table, "Item": item}} for item in new.values()]
    writes += [
        {"Delete": {"TableName": table, "Key": {"PK": item["PK"], "SK": item["SK"]}}}
        for key, item in old.items()
        if key not in new
    ]
    return writes


def is_entry(sort_key: str) -> bool:
    """Whether an item of a lead's partition is one of its index entries."""
    return sort_key.startswith((LeadIndexKeys.ORDER, LeadIndexKeys.TOKEN))
