"""A tenant's lead counters and id sequence (its stats item): what a lead write changes in them
(``counter_deltas``), the Update that applies it (``stats_update``), and the item read back
(``LeadStats``). The lead store writes them with each lead; the import store with each chunk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leads_shared.data.dynamo import av, from_item, to_item
from leads_shared.keys import KEY_ATTRIBUTES, LeadStatsKeys

if TYPE_CHECKING:
    from leads_shared.models.leads import Lead


@dataclass(frozen=True)
class LeadStats:
    """A tenant's id sequence and counters (all zero before its first lead)."""

    lead_seq: int = 0
    counters: dict[str, int] = field(default_factory=dict)

    def count(self, name: str) -> int:
        return max(0, self.counters.get(name, 0))

    @property
    def total(self) -> int:
        return self.count(LeadStatsKeys.TOTAL)


def counter_deltas(before: Lead | None, after: Lead | None) -> dict[str, int]:
    """How the tenant's counters change when ``before`` becomes ``after`` (None: absent)."""
    deltas: dict[str, int] = {}

    def add(lead: Lead, sign: int) -> None:
        names = [LeadStatsKeys.TOTAL, LeadStatsKeys.status_counter(lead.status)]
        if lead.assigned_to is not None:
            names.append(LeadStatsKeys.assignee_counter(lead.assigned_to))
        for name in names:
            deltas[name] = deltas.get(name, 0) + sign

    if before is not None:
        add(before, -1)
    if after is not None:
        add(after, +1)
    return {name: delta for name, delta in deltas.items() if delta}


def stats_update(
    table: str,
    tenant_id: str,
    deltas: dict[str, int],
    *,
    set_seq: int | None = None,
    expected_seq: int | None = None,
) -> dict[str, Any]:
    """The Update of a tenant's stats item: add ``deltas`` to its counters and, with ``set_seq``,
    move the id sequence there on condition that it still is ``expected_seq``."""
    names = {f"#c{i}": name for i, name in enumerate(sorted(deltas))}
    values = {f":c{i}": av(deltas[name]) for i, name in enumerate(sorted(deltas))}
    clauses = []
    if set_seq is not None:
        clauses.append("SET #seq = :next")
        names["#seq"] = LeadStatsKeys.SEQUENCE
        values[":next"] = av(set_seq)
        values[":expected"] = av(expected_seq or 0)
    if deltas:
        clauses.append("ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(deltas))))
    update: dict[str, Any] = {
        "TableName": table,
        "Key": to_item(LeadStatsKeys.primary(tenant_id)),
        "UpdateExpression": " ".join(clauses),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    if set_seq is not None:
        # A tenant's first lead finds no sequence yet.
        first = "attribute_not_exists(#seq) OR " if not expected_seq else ""
        update["ConditionExpression"] = f"{first}#seq = :expected"
    return update


def stats_from_item(item: dict[str, Any]) -> LeadStats:
    values = from_item(item)
    seq = int(values.pop(LeadStatsKeys.SEQUENCE, 0))
    counters = {k: int(v) for k, v in values.items() if k not in KEY_ATTRIBUTES and isinstance(v, int)}
    return LeadStats(lead_seq=seq, counters=counters)
