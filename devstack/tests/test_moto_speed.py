"""The emulator's shortcuts (devstack/moto_speed.py) answer what moto's own code answers: the same
requests, every attribute type, every item action, table and index queries (paged, both ways,
with filters and projections), before and after writes, through both."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import SecondaryIndex, Table
from moto.dynamodb.responses import DynamoHandler

from devstack import moto_speed
from devstack.emulator import Emulator, start_emulator
from devstack.template import Template


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    started = start_emulator(Template.load())
    yield started
    started.stop()


@pytest.fixture
def moto_answers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, Any]]:
    """Each item action's body as written by the shortcut and by moto's serializer."""
    compared: list[tuple[str, Any, Any]] = []

    def both(self: DynamoHandler, action_result: Any) -> Any:
        status, headers, body = moto_speed.serialized(self, action_result)
        moto_status, moto_headers, moto_body = moto_speed.moto_serialized(self, action_result)
        assert (status, headers["Content-Type"]) == (moto_status, moto_headers["Content-Type"])
        compared.append((self._get_action(), json.loads(body), json.loads(moto_body)))
        return status, headers, body

    monkeypatch.setattr(DynamoHandler, "serialized", both)
    return compared


def _item(pk: str, sk: str, n: int) -> dict[str, Any]:
    return {
        "PK": {"S": pk},
        "SK": {"S": sk},
        "GSI1PK": {"S": f"T#{n % 3}"},
        "GSI1SK": {"S": f"name#{n:04d}"},
        "LISTPK": {"S": f"T#{n % 2}"},
        "LISTSK": {"S": f"{n:04d}"},
        "id": {"N": str(n)},
        "first_name": {"S": f"Ada {n}"},
        "status": {"S": ("new", "contacted")[n % 2]},
        "notes": {"S": "not in the LIST index"},
        "score": {"N": "1.50"},
        "photo": {"B": b"\x00\xffbinary"},
        "tags": {"SS": ["a", "b"]},
        "sizes": {"NS": ["1", "2"]},
        "blobs": {"BS": [b"x", b"y"]},
        "done": {"BOOL": n % 2 == 0},
        "gone": {"NULL": True},
        "address": {"M": {"city": {"S": "Paris"}, "lines": {"L": [{"S": "1 rue"}, {"N": "2"}]}}},
    }


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": {":pk": {"S": "P#1"}}},
    {"KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": {":pk": {"S": "nobody"}}},
    {
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
        "ExpressionAttributeValues": {":pk": {"S": "P#1"}, ":sk": {"S": "S#1"}},
        "ScanIndexForward": False,
    },
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "T#1"}},
        "Limit": 4,
    },
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK > :after",
        "FilterExpression": "#s = :status",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {
            ":pk": {"S": "T#2"},
            ":after": {"S": "name#0010"},
            ":status": {"S": "new"},
        },
        "ScanIndexForward": False,
        "Limit": 3,
    },
    {
        "IndexName": "LIST",
        "KeyConditionExpression": "LISTPK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "T#0"}},
        "Limit": 5,
    },
    {
        "IndexName": "LIST",
        "KeyConditionExpression": "LISTPK = :pk",
        "ProjectionExpression": "id, first_name",
        "ExpressionAttributeValues": {":pk": {"S": "T#1"}},
    },
    # The ordered, bounded index reads (a sort-key window, then the Limit): every comparison.
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK BETWEEN :low AND :high",
        "ExpressionAttributeValues": {
            ":pk": {"S": "T#0"},
            ":low": {"S": "name#0003"},
            ":high": {"S": "name#0030"},
        },
        "ScanIndexForward": False,
        "Limit": 2,
    },
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": "T#1"}, ":prefix": {"S": "name#001"}},
        "Limit": 2,
    },
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK >= :low",
        "FilterExpression": "#s = :status",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {
            ":pk": {"S": "T#2"},
            ":low": {"S": "name#0005"},
            ":status": {"S": "new"},
        },
        "Select": "COUNT",
        "Limit": 3,
    },
    {
        "IndexName": "LIST",
        "KeyConditionExpression": "LISTPK = :pk AND LISTSK <= :high",
        "ExpressionAttributeValues": {":pk": {"S": "T#0"}, ":high": {"S": "0031"}},
        "ScanIndexForward": False,
        "Limit": 3,
    },
    {
        "IndexName": "LIST",
        "KeyConditionExpression": "LISTPK = :pk AND LISTSK < :high",
        "ExpressionAttributeValues": {":pk": {"S": "T#1"}, ":high": {"S": "0031"}},
        "Limit": 4,
    },
    {
        "IndexName": "LIST",
        "KeyConditionExpression": "LISTPK = :pk AND LISTSK = :one",
        "ExpressionAttributeValues": {":pk": {"S": "T#1"}, ":one": {"S": "0011"}},
    },
]


def _pages(dynamodb: Any, table: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    pages, start = [], None
    while True:
        page = dynamodb.query(TableName=table, **query, **({"ExclusiveStartKey": start} if start else {}))
        page.pop("ResponseMetadata")
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


def _through_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Table, "query", moto_speed.moto_query)
    monkeypatch.setattr(Table, "all_items", moto_speed.moto_all_items)
    monkeypatch.setattr(SecondaryIndex, "project", moto_speed.moto_project)
    monkeypatch.setattr(DynamoType, "cast_value", property(moto_speed.moto_cast_value))
    monkeypatch.setattr(DynamoType, "size", moto_speed.moto_size)
    monkeypatch.setattr(DynamoType, "__init__", moto_speed.moto_dynamo_type_init)
    monkeypatch.setattr(DynamoType, "__deepcopy__", moto_speed.moto_dynamo_type_deepcopy)
    monkeypatch.setattr(Item, "__deepcopy__", moto_speed.moto_item_deepcopy)


def test_every_attribute_type_compares_and_sizes_as_moto_does(emulator: Emulator) -> None:
    values = [DynamoType(value) for value in _item("P#0", "S#0", 7).values()]
    values += [DynamoType({"S": "déjà vu"}), DynamoType({"B": b"\x00"}), DynamoType({"BOOL": False})]
    for value in values:
        built_by_moto = DynamoType.__new__(DynamoType)
        moto_speed.moto_dynamo_type_init(built_by_moto, value.to_json())
        assert (value.type, value.to_regular_json()) == (built_by_moto.type, built_by_moto.to_regular_json())
        assert value.cast_value == moto_speed.moto_cast_value(value), value
        assert value.size() == moto_speed.moto_size(value), value
    assert DynamoType.cast_value.fget is moto_speed.cast_value  # the emulator's, being compared

    item = Item(DynamoType({"S": "P#0"}), DynamoType({"S": "S#0"}), _item("P#0", "S#0", 7))
    ours, moto_copy = copy.deepcopy(item), moto_speed.moto_item_deepcopy(item, {})
    assert ours.to_json() == moto_copy.to_json() == item.to_json()
    assert (ours.hash_key, ours.range_key) == (item.hash_key, item.range_key)
    ours.attrs["address"].value["lines"].value.append(DynamoType({"S": "changed"}))
    ours.attrs["tags"].value.append("c")
    assert item.to_json() == moto_copy.to_json()  # the copy shares nothing that changes


def test_every_item_action_answers_as_moto_serializes_it(
    emulator: Emulator, moto_answers: list[tuple[str, Any, Any]]
) -> None:
    dynamodb = emulator.client("dynamodb")
    table = emulator.resources["LeadsTable"].name
    dynamodb.put_item(TableName=table, Item=_item("P#0", "S#0", 0), ReturnValues="NONE")
    dynamodb.put_item(TableName=table, Item=_item("P#0", "S#0", 1), ReturnValues="ALL_OLD")
    dynamodb.get_item(TableName=table, Key={"PK": {"S": "P#0"}, "SK": {"S": "S#0"}})
    dynamodb.get_item(TableName=table, Key={"PK": {"S": "P#0"}, "SK": {"S": "none"}})
    dynamodb.update_item(
        TableName=table,
        Key={"PK": {"S": "P#0"}, "SK": {"S": "S#0"}},
        UpdateExpression="SET score = score + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
        ReturnConsumedCapacity="TOTAL",
    )
    dynamodb.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": _item("P#0", f"S#{n}", n)}} for n in (2, 3)]}
    )
    dynamodb.batch_get_item(
        RequestItems={table: {"Keys": [{"PK": {"S": "P#0"}, "SK": {"S": f"S#{n}"}} for n in (0, 2, 9)]}}
    )
    dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": table, "Item": _item("P#0", "S#4", 4)}}]
    )
    dynamodb.transact_get_items(
        TransactItems=[{"Get": {"TableName": table, "Key": {"PK": {"S": "P#0"}, "SK": {"S": "S#4"}}}}]
    )
    dynamodb.query(
        TableName=table, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "P#0"}}
    )
    dynamodb.scan(TableName=table, Limit=2)
    dynamodb.delete_item(
        TableName=table, Key={"PK": {"S": "P#0"}, "SK": {"S": "S#0"}}, ReturnValues="ALL_OLD"
    )

    actions = {action for action, _, _ in moto_answers}
    assert actions == moto_speed.ITEM_ACTIONS
    for action, ours, moto in moto_answers:
        assert ours == moto, action


def test_queries_find_what_moto_finds(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    dynamodb = emulator.client("dynamodb")
    table = emulator.resources["LeadsTable"].name
    for n in range(40):
        dynamodb.put_item(TableName=table, Item=_item(f"P#{n % 4}", f"S#{n}", n))

    def every_query() -> list[list[dict[str, Any]]]:
        return [_pages(dynamodb, table, query) for query in QUERIES]

    ours = every_query()
    # A write after the partitions were kept: the next queries see it.
    dynamodb.update_item(
        TableName=table,
        Key={"PK": {"S": "P#1"}, "SK": {"S": "S#1"}},
        UpdateExpression="SET GSI1PK = :moved, LISTPK = :moved",
        ExpressionAttributeValues={":moved": {"S": "T#0"}},
    )
    dynamodb.delete_item(TableName=table, Key={"PK": {"S": "P#2"}, "SK": {"S": "S#2"}})
    # Item writes of every action move the items they name in the kept partitions (a cancelled
    # transaction's writes are undone by moto's own writes, which move them back).
    dynamodb.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": _item("P#9", "S#90", 90)}},
                {"DeleteRequest": {"Key": {"PK": {"S": "P#3"}, "SK": {"S": "S#3"}}}},
            ]
        }
    )
    moved = {"Key": {"PK": {"S": "P#0"}, "SK": {"S": "S#4"}}, "TableName": table}
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": _item("P#9", "S#91", 91)}},
            {
                "Update": {
                    **moved,
                    "UpdateExpression": "SET GSI1SK = :s",
                    "ExpressionAttributeValues": {":s": {"S": "name#9999"}},
                }
            },
        ]
    )
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        **moved,
                        "UpdateExpression": "SET GSI1PK = :p",
                        "ExpressionAttributeValues": {":p": {"S": "T#9"}},
                    }
                },
                {"Delete": {"TableName": table, "Key": {"PK": {"S": "P#9"}, "SK": {"S": "S#90"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"PK": {"S": "P#1"}, "SK": {"S": "S#5"}},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    ours_after = every_query()

    with monkeypatch.context() as through_moto:
        _through_moto(through_moto)
        moto_after = every_query()
    assert ours_after == moto_after
    assert ours != ours_after  # the write was seen, not an answer kept from before it
    assert all("Items" in page or "Count" in page for pages in ours for page in pages)
    assert any(len(pages) > 1 for pages in ours)  # paging was compared too


def test_items_are_refused_over_the_size_limit_as_moto_refuses_them(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    dynamodb = emulator.client("dynamodb")
    table = emulator.resources["LeadsTable"].name

    def put(size: int) -> str:
        item = {
            "PK": {"S": "P#big"},
            "SK": {"S": "S#0"},
            "a": {"S": "x" * (size // 2)},
            "b": {"S": "y" * (size // 2)},
        }
        try:
            dynamodb.put_item(TableName=table, Item=item)
        except dynamodb.exceptions.ClientError as refused:
            return refused.response["Error"]["Message"]
        return "stored"

    ours = [put(size) for size in (404_000, 406_000)]
    with monkeypatch.context() as through_moto:
        through_moto.setattr(Item, "__init__", moto_speed.moto_item_init)
        moto = [put(size) for size in (404_000, 406_000)]
    assert ours == moto
    assert ours[0] == "stored" and ours[1] != "stored"


def test_the_server_routes_by_moto_s_own_list_of_services(emulator: Emulator) -> None:
    assert moto_speed.list_of_moto_modules() == set(moto_speed.moto_list_of_moto_modules())
    assert {"dynamodb", "s3", "sqs"} <= moto_speed.list_of_moto_modules()
