"""Leads written straight to the table, with their counters: the same items the API writes,
without paying for the API (tests that measure what a list or an import reads at thousands of
leads)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from leads_shared.data import get_lead_store
from leads_shared.data.lead_counters import counter_deltas
from leads_shared.data.lead_entries import ENTRIES_MARKER
from leads_shared.data.lead_store import lead_to_item, stored_items
from leads_shared.keys import LeadStatsKeys
from leads_shared.models.leads import Lead
from tests.support.clients import NAMES

FIRSTS = ["ann", "Ann", "anna", "Bob", "bob", "Zoe", "Émile", "carl"]
LASTS = ["Smith", "adams", "Adams", "O'Neil", "zed"]
SOURCES = ["Website", "Referral", "LinkedIn"]
STATUSES = ["new", "contacted", "qualified", "disqualified"]


def stored_before_entries(lead: Lead) -> list[dict[str, Any]]:
    """A lead as a stack before the index entries stored it: its item alone, unmarked."""
    item = lead_to_item(lead)
    del item[ENTRIES_MARKER]
    return [item]


def bulk_leads(
    tenant_id: str,
    count: int,
    seed: int = 7,
    stored_as: Callable[[Lead], list[dict[str, Any]]] = stored_items,
) -> list[Lead]:
    """``count`` varied leads written straight to the table (with their counters), created one
    hour apart from 2026-01-01: the same items the API writes (``stored_as``), without paying
    for the API."""
    rng = random.Random(seed)
    leads = []
    for i in range(1, count + 1):
        assignee = rng.choice([1, 2, 3, None])
        day, hour = divmod(i, 24)
        created = f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T{hour:02d}:00:00.000000Z"
        leads.append(
            Lead(
                tenant_id=tenant_id,
                id=i,
                first_name=rng.choice(FIRSTS),
                last_name=rng.choice(LASTS),
                email=rng.choice([None, f"Lead{i}@Example.com"]),
                phone=rng.choice([None, f"+1 555 {i:04d}"]),
                company=rng.choice([None, "Acme Inc", "beta GmbH", "Zeta LLC"]),
                source=rng.choice(SOURCES),
                status=rng.choice(STATUSES),
                assigned_to=assignee,
                assigned_to_name=NAMES.get(assignee) if assignee else None,
                created_at=created,
                updated_at=created,
            )
        )
    store = get_lead_store()
    client = store.client
    items = [item for lead in leads for item in stored_as(lead)]
    for start in range(0, len(items), 25):
        chunk = items[start : start + 25]
        client.batch_write_item(
            RequestItems={store.table: [{"PutRequest": {"Item": item}} for item in chunk]}
        )
    totals: dict[str, int] = {}
    for lead in leads:
        for name, delta in counter_deltas(None, lead).items():
            totals[name] = totals.get(name, 0) + delta
    names = {f"#c{i}": name for i, name in enumerate(totals)}
    values = {f":c{i}": {"N": str(totals[name])} for i, name in enumerate(totals)}
    values[":seq"] = {"N": str(count)}
    key = {k: {"S": v} for k, v in LeadStatsKeys.primary(tenant_id).items()}
    client.update_item(
        TableName=store.table,
        Key=key,
        UpdateExpression="SET lead_seq = :seq, " + ", ".join(f"#c{i} = :c{i}" for i in range(len(names))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )
    return leads
