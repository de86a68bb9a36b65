"""`tests.support.bulk_leads` puts its items straight into moto's backend: the table then holds
what its BatchWriteItems would have stored, in every index (sparse ones too), with the same
counters, and a Query right after seeding finds them; the stream gets their records only when
asked."""

from __future__ import annotations

import json
import uuid
from typing import Any

from devstack.emulator import Emulator
from devstack.stream_poller import StreamReader
from tests.support import bulk_leads as seeding
from tests.support.bulk_leads import bulk_leads, stored_items, varied_leads, write_items

LEADS = 20  # several batches of 25 with their entries; unassigned leads (not in GSI3), leads without an email


def _pages(dynamodb: Any, operation: str, **request: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = getattr(dynamodb, operation)(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _stored(emulator: Emulator, tenant_id: str) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per index (``table``: the table itself), each partition holding the tenant's items (their
    key values in a Scan of the table) -> its items, as a Query reads them."""
    dynamodb = emulator.client("dynamodb")
    table = emulator.resources["LeadsTable"].name
    description = dynamodb.describe_table(TableName=table)["Table"]
    schemas = {"table": description["KeySchema"]}
    schemas |= {index["IndexName"]: index["KeySchema"] for index in description["GlobalSecondaryIndexes"]}
    scanned = _pages(dynamodb, "scan", TableName=table)
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for index, schema in schemas.items():
        hash_key = next(key["AttributeName"] for key in schema if key["KeyType"] == "HASH")
        on_index = {} if index == "table" else {"IndexName": index}
        values = {item[hash_key]["S"] for item in scanned if hash_key in item}
        partitions = sorted(value for value in values if tenant_id in value)
        found[index] = {
            partition: _pages(
                dynamodb,
                "query",
                TableName=table,
                KeyConditionExpression="#h = :h",
                ExpressionAttributeNames={"#h": hash_key},
                ExpressionAttributeValues={":h": {"S": partition}},
                **on_index,
            )
            for partition in partitions
        }
    return found


def _as_tenant(value: Any, tenant_id: str, other: str) -> Any:
    """``value`` with ``tenant_id`` written as ``other`` wherever it appears."""
    return json.loads(json.dumps(value).replace(tenant_id, other))


def _records(reader: StreamReader) -> list[list[Any]]:
    """What each record read says of the item (not when, or under which sequence number)."""
    return [
        [record["eventName"], record["dynamodb"]["Keys"], record["dynamodb"].get("NewImage")]
        for record in reader.read()
    ]


def test_seeding_straight_into_moto_stores_what_batch_write_item_stores(emulator, monkeypatch):
    through_http, direct, unstreamed = (f"t-{uuid.uuid4().hex[:12]}" for _ in range(3))
    monkeypatch.setattr(seeding, "DIRECT_BATCH", 7)  # several times the emulator's lock, as 20,000 take

    reader = StreamReader(emulator, "LeadsTable")
    bulk_leads(through_http, LEADS, through_http=True)
    http_records = _records(reader)
    expected = _stored(emulator, through_http)  # the Queries keep each index's partitions

    bulk_leads(direct, LEADS, stream=True)
    direct_records = _records(reader)
    stored = _stored(emulator, direct)  # right after seeding: the kept partitions are stale

    assert _as_tenant(stored, direct, through_http) == expected
    # The same records (BatchWriteItem applies a batch's items in an order of its own).
    assert sorted(map(json.dumps, _as_tenant(direct_records, direct, through_http))) == sorted(
        map(json.dumps, http_records)
    )
    leads_inserted = [record for record in http_records if record[1]["SK"]["S"] == "LEAD"]
    assert len(leads_inserted) == LEADS and {record[0] for record in leads_inserted} == {"INSERT"}
    # Every index holds the tenant's leads; the sparse ones only those with the index's keys.
    everyone = f"TENANT#{through_http}#LEADS"
    assert len(expected["GSI1"][everyone]) == len(expected["LIST"][everyone]) == LEADS
    assigned = sum(len(items) for items in expected["GSI3"].values())
    emailed = sum(len(items) for items in expected["LOOKUP"].values())
    assert 0 < assigned < LEADS and 0 < emailed < LEADS
    counters = next(items for partition, items in expected["table"].items() if "#LEAD#" not in partition)
    assert counters[0]["lead_seq"] == {"N": str(LEADS)} and counters[0]["total"] == {"N": str(LEADS)}

    bulk_leads(unstreamed, LEADS)  # by default, the stream gets no record of the leads
    assert _as_tenant(_stored(emulator, unstreamed), unstreamed, through_http) == expected
    counters_records = [record for record in http_records if "#LEAD#" not in record[1]["PK"]["S"]]
    assert _as_tenant(_records(reader), unstreamed, through_http) == counters_records


def test_a_query_right_after_writing_straight_into_moto_finds_the_items(emulator):
    """The emulator keeps each index's partitions until the next write (`moto_speed`): a write
    straight into the backend is one, though no request made it."""
    first, then = (f"t-{uuid.uuid4().hex[:12]}" for _ in range(2))
    bulk_leads(first, 30)
    expected = _stored(emulator, first)  # Queries of every index: its partitions kept
    write_items([item for lead in varied_leads(then, 30) for item in stored_items(lead)])
    after = _stored(emulator, then)  # no request wrote since the Queries above
    assert len(after["GSI1"][f"TENANT#{then}#LEADS"]) == len(after["LIST"][f"TENANT#{then}#LEADS"]) == 30
    del expected["table"][f"TENANT#{first}"]  # the counters (`write_items` writes the leads only)
    assert _as_tenant(after, then, first) == expected
