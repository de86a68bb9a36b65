"""A lead's history entries as stored items (``LeadHistoryKeys``): each is written by the write
of the lead it records, in the same transaction (``history_write``), never on its own."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from leads_shared.data.dynamo import stored_values, to_item
from leads_shared.keys import LeadHistoryKeys
from leads_shared.models.history import HistoryEntry

if TYPE_CHECKING:
    from collections.abc import Mapping

HISTORY_ENTITY = "lead_change"


def history_to_item(entry: HistoryEntry) -> dict[str, Any]:
    keys = LeadHistoryKeys.entry(entry.tenant_id, entry.lead_id, entry.at, entry.version)
    return to_item({**entry.model_dump(), **keys, "entity": HISTORY_ENTITY})


def nested_numbers(value: Any) -> Any:
    """Nested numbers (ids among the old and new values) as ints, as ``from_item`` does for an
    item's own attributes."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [nested_numbers(part) for part in value]
    if isinstance(value, dict):
        return {name: nested_numbers(part) for name, part in value.items()}
    return value


def history_from_item(item: Mapping[str, Any]) -> HistoryEntry:
    values = nested_numbers(stored_values(item))
    values.pop("entity", None)
    return HistoryEntry.model_validate(values)


def history_write(table: str, entry: HistoryEntry) -> dict[str, Any]:
    """The transaction item that records ``entry`` (a Put: its key is new, made of the time and
    the version the write gives the lead)."""
    return {"Put": {"TableName": table, "Item": history_to_item(entry)}}
