"""Leads written straight to the table, with their counters: the same items the API writes,
without paying for the API (tests that measure what a list or an import reads at thousands of
leads).

Against an emulator of this process (the tests' own), the items are put into moto's backend
directly: what a BatchWriteItem of them does in moto (the same validation, the same `put_item`,
so the same items in the same indexes, sparse ones too), without a request per 25 items. Against
any other endpoint (a remote emulator), they go through BatchWriteItem.

The table's stream gets no records of them (unless asked: ``stream=True``), as a table loaded
from S3 gets none: they are the tenant's data as a test finds it. No test reads them (the tests
run no stream poller; the only function on the stream, the directory sync, is given changes of
users only), making them took 30% of the seeding (22,000 leads: 13 s of CPU with them, 9 s
without), and 20,000 of them would push what a reader had not read yet out of the last 10,000
the emulator keeps. Through BatchWriteItem the stream gets them regardless."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from devstack.emulator import direct_dynamodb
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
BATCH = 25  # BatchWriteItem's most items
# Items put straight into moto's backend at once: the emulator answers no request meanwhile
# (a DynamoDB request of another thread waits for at most this many).
DIRECT_BATCH = 1000


def stored_before_entries(lead: Lead) -> list[dict[str, Any]]:
    """A lead as a stack before the index entries stored it: its item alone, unmarked."""
    item = lead_to_item(lead)
    del item[ENTRIES_MARKER]
    return [item]


def bulk_leads(
    tenant_id: str,
    count: int,
    seed: int = 7,
    *,
    stream: bool = False,
    through_http: bool = False,
    stored_as: Callable[[Lead], list[dict[str, Any]]] = stored_items,
) -> list[Lead]:
    """``count`` varied leads written straight to the table (with their counters), created one
    hour apart from 2026-01-01: the same items the API writes (``stored_as``: the lead and its
    index entries), without paying for the API. ``stream``: with their records in the table's
    stream; ``through_http``: by BatchWriteItem even when moto's backend is at hand."""
    leads = varied_leads(tenant_id, count, seed)
    items = [item for lead in leads for item in stored_as(lead)]
    write_items(items, stream=stream, through_http=through_http)
    totals: dict[str, int] = {}
    for lead in leads:
        for name, delta in counter_deltas(None, lead).items():
            totals[name] = totals.get(name, 0) + delta
    names = {f"#c{i}": name for i, name in enumerate(totals)}
    values = {f":c{i}": {"N": str(totals[name])} for i, name in enumerate(totals)}
    values[":seq"] = {"N": str(count)}
    key = {k: {"S": v} for k, v in LeadStatsKeys.primary(tenant_id).items()}
    store = get_lead_store()
    store.client.update_item(
        TableName=store.table,
        Key=key,
        UpdateExpression="SET lead_seq = :seq, " + ", ".join(f"#c{i} = :c{i}" for i in range(len(names))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )
    return leads


def varied_leads(tenant_id: str, count: int, seed: int = 7) -> list[Lead]:
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
    return leads


def write_items(items: list[dict[str, Any]], *, stream: bool = False, through_http: bool = False) -> None:
    """Put ``items`` (DynamoDB JSON) into the lead store's table, as BatchWriteItems of 25 would
    (``stream``: see the module). Two items with one key are refused before anything is written:
    a batch refuses them, and across batches the later one would silently replace the earlier."""
    store = get_lead_store()
    _refuse_repeated_keys(items)
    endpoint = None if through_http else store.client.meta.endpoint_url
    for start in range(0, len(items), DIRECT_BATCH):
        # What moto reads off the wire: fresh values, binary ones base64-encoded.
        wire = [json.loads(json.dumps(item, default=_base64)) for item in items[start : start + DIRECT_BATCH]]
        with direct_dynamodb(endpoint) as backend:
            if backend is None:
                break
            _put(backend.get_table(store.table), wire, stream)
    else:
        return
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        answer = store.client.batch_write_item(
            RequestItems={store.table: [{"PutRequest": {"Item": item}} for item in chunk]}
        )
        assert not answer.get("UnprocessedItems"), answer["UnprocessedItems"]


def _put(table: Table, items: list[dict[str, Any]], stream: bool) -> None:
    """What moto's BatchWriteItem stores for each item (``stream``: and the record it adds):
    the item under its keys. The items are the API's own (``stored_items``), so moto's checks of
    a request's values (types, empty keys, key sizes: the key schema bounds them) are left out,
    two thirds of the seeding's time; the item is built as moto builds it (its size checked)."""
    shard = table.stream_shard if stream else None
    hash_name, range_name = table.hash_key_attr, table.range_key_attr
    for attrs in items:
        hash_value, range_value = DynamoType(attrs[hash_name]), DynamoType(attrs[range_name])
        if not hash_value.value or not range_value.value:
            raise ValueError(f"an empty key: {attrs[hash_name]}, {attrs[range_name]}")
        item = Item(hash_value, range_value, attrs)
        partition = table.items[hash_value]
        current = partition.get(range_value)
        partition[range_value] = item
        if shard is not None:
            shard.add(current, item)


def _refuse_repeated_keys(items: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for item in items:
        key = json.dumps([item["PK"], item["SK"]], default=_base64)
        if key in seen:
            raise ValueError(f"two items with the key {key}")
        seen.add(key)


def _base64(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(type(value).__name__)
