"""Where moto spends time that DynamoDB does not, and the tests and `make dev` wait for it.

Profiled on the 2,000-lead list tests, the emulator's thread took two thirds of the run, and in
it three things that grow with the table rather than with the answer:

- every answer went through moto's generic, model-driven response serializer (a third of the
  run), although a DynamoDB answer is already in its wire shape: the item actions' answers are
  written as JSON directly (binary values base64-encoded, as the serializer does);
- an index Query read every item of the table to find the partition, and a table Query did the
  same: the partition's items are found by their key (each index's partitions are built once
  per table and kept up to date item by item: an item action's writes move the items they
  wrote, see ``_catch_up``; anything else builds them again, see ``note_request``);
- a KEYS_ONLY or INCLUDE index projected each item through a nested-JSON round trip: the
  projection keeps the item's top-level attributes the index has, which is what it means.

Seeding 20,000 leads showed a fourth, which grows with each item's attributes: every item
written was built an attribute at a time, each step summing the size of all the attributes set
so far. The item is built at once and its size checked once, against the same limit (sizes are
never negative, so the whole item is over it exactly when some step was).

The index entries of issue 15 showed a fifth: moto sorts an index partition for every Query and
walks it from its start, so a page of 25 from a partition of 20,000 leads cost the partition.
Each partition is kept sorted (until the next write), and a Query is given only the items it can
reach: the sort-key condition and the start key found by bisection, then its ``Limit`` and one
item past it (so that moto still answers a LastEvaluatedKey where it would). What DynamoDB
counts (items read, ``ScannedCount``) is unchanged: the tests' counts are DynamoDB's.

Each keeps moto's answers as they were (`devstack/tests/test_moto_speed.py` runs the same
requests through moto's own code and compares).
"""

from __future__ import annotations

import base64
import bisect
import copy
import functools
import itertools
import json
import threading
from collections import defaultdict
from typing import Any

from moto import backends
from moto.core.responses import ActionResult
from moto.core.utils import get_service_model
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import SecondaryIndex, Table
from moto.dynamodb.responses import DynamoHandler

# The answers of these actions are items and keys in DynamoDB's own JSON, nothing the model adds.
ITEM_ACTIONS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
# DynamoDB requests that change items only through moto's item writes, which name each item they
# write (``_note_item``): the kept partitions move those items instead of being built again.
ITEM_WRITE_ACTIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
# DynamoDB requests that change no item: any other one forgets the partitions found so far.
READ_ACTIONS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "DescribeTable",
        "DescribeTimeToLive",
        "ListTables",
        "DescribeStream",
        "GetShardIterator",
        "GetRecords",
        "ListStreams",
    }
)
_CONTENT_TYPE = "application/x-amz-json-1.0"

moto_serialized = DynamoHandler.serialized
moto_project = SecondaryIndex.project
moto_all_items = Table.all_items
moto_query = Table.query
moto_item_init = Item.__init__
moto_list_of_moto_modules = backends.list_of_moto_modules
moto_dynamo_type_init = DynamoType.__init__
moto_dynamo_type_deepcopy = DynamoType.__deepcopy__
moto_item_deepcopy = Item.__deepcopy__
moto_cast_value = DynamoType.cast_value.fget
moto_size = DynamoType.size
moto_put_item = Table.put_item
moto_delete_item = Table.delete_item
moto_update_item = DynamoDBBackend.update_item
# moto's item size limit (LimitedSizeDict: between DynamoDB's measured 409 and 410 KB).
ITEM_SIZE_LIMIT = 405000

_writes = 0  # changes to items that no item write named (``note_request``), in this process
_partitions = threading.local()  # the candidates of the Query running on this thread


def note_request(target: str) -> None:
    """Called with each DynamoDB request's X-Amz-Target (``DynamoDB_20120810.PutItem``), before
    it is applied: a request that may change items without naming them (not an item action's
    write, ``ITEM_WRITE_ACTIONS``) makes the kept index partitions stale."""
    global _writes
    if target.rpartition(".")[2] not in READ_ACTIONS | ITEM_WRITE_ACTIONS:
        _writes += 1


def note_direct_write() -> None:
    """Called when this process writes to moto's tables without a request
    (`devstack.emulator.direct_dynamodb`): the kept index partitions are stale."""
    global _writes
    _writes += 1


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(type(value).__name__)


@functools.cache
def _answer_members(action: str) -> frozenset[str]:
    """The top-level members DynamoDB's model gives the action's answer (moto adds a few others,
    which its serializer leaves out)."""
    return frozenset(get_service_model("dynamodb").operation_model(action).output_shape.members)


def serialized(self: DynamoHandler, action_result: ActionResult) -> Any:
    result = action_result.result
    action = self._get_action()
    if isinstance(result, dict) and action in ITEM_ACTIONS:
        members = _answer_members(action)
        answer = {name: value for name, value in result.items() if name in members}
        try:
            body = json.dumps(answer, default=_json_value, separators=(",", ":"))
        except TypeError:
            return moto_serialized(self, action_result)  # something the model must shape
        headers = {"Content-Type": _CONTENT_TYPE}
        headers.update(self.response_headers)
        return 200, headers, body
    return moto_serialized(self, action_result)


def project(self: SecondaryIndex, item: Item) -> Item:
    projection_type = (self.projection or {}).get("ProjectionType")
    if projection_type not in ("KEYS_ONLY", "INCLUDE"):
        return item  # ALL, or none given: the whole item
    kept = set(self.table_key_attrs) | {key["AttributeName"] for key in self.schema}
    if projection_type == "INCLUDE":
        kept.update(self.projection.get("NonKeyAttributes", []))
    projected = copy.copy(item)
    projected.attrs = LimitedSizeDict({name: value for name, value in item.attrs.items() if name in kept})
    return projected


def item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    self.hash_key = hash_key
    self.range_key = range_key
    built = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(built, ((key, DynamoType(value)) for key, value in attrs.items()))
    self.attrs = built
    if self.size() > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge


def _index_partitions(table: Table, index_name: str, attribute: str) -> dict[DynamoType, dict[Any, Item]]:
    """The table's items by their value of ``attribute`` (an index's partition key), each
    partition's items by primary key, in the table's order. Built once per table and kept up to
    date item by item: the writes of item actions name their items (``_note_item``); any other
    change (``_writes``: a direct write, a table action) builds them again."""
    kept: dict[tuple[str, str], tuple[dict[DynamoType, dict[Any, Item]], dict[Any, DynamoType]]]
    writes, kept = getattr(table, "_speed_partitions", (-1, {}))
    if writes != _writes:
        kept = {}
        table._speed_partitions = (_writes, kept)  # type: ignore[attr-defined]
        table._speed_orders = (_writes, {})  # type: ignore[attr-defined]
        table.__dict__.pop("_speed_written", None)
    _catch_up(table, kept)
    if (index_name, attribute) not in kept:
        partitions: dict[DynamoType, dict[Any, Item]] = defaultdict(dict)
        where: dict[Any, DynamoType] = {}
        for item in moto_all_items(table):
            value = item.attrs.get(attribute)
            if value is not None:
                key = (item.hash_key, item.range_key)
                partitions[value][key] = item
                where[key] = value
        kept[(index_name, attribute)] = (partitions, where)
    return kept[(index_name, attribute)][0]


def _catch_up(
    table: Table,
    kept: dict[tuple[str, str], tuple[dict[DynamoType, dict[Any, Item]], dict[Any, DynamoType]]],
) -> None:
    """Move the items written since the partitions were built (``_speed_written``) to where
    they are now: out of the partition they were in, into the one of their current value (an
    item that stays in its partition keeps its place, as it does in the table). Each partition
    an item left or joined is ordered again (``_ordered_partition``) when next asked."""
    written: set[Any] = table.__dict__.pop("_speed_written", set())
    if not written:
        return
    _, orders = getattr(table, "_speed_orders", (-1, {}))
    for (index_name, attribute), (partitions, where) in kept.items():
        for key in written:
            hash_key, range_key = key
            partition = table.items.get(hash_key)
            if partition is None:
                item = None
            elif table.range_key_attr:
                item = partition.get(range_key)
            else:
                item = partition
            before, now = where.get(key), item.attrs.get(attribute) if item is not None else None
            if before is not None and (now is None or before != now):
                del partitions[before][key]
                if not partitions[before]:
                    del partitions[before]
                del where[key]
            for value in (before, now):
                if value is not None:
                    orders.pop(_slot(index_name, attribute, value), None)
            if now is not None:
                partitions[now][key] = item
                where[key] = now


def _note_item(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> None:
    """An item action wrote (or may have written) this item: the kept partitions move it."""
    if getattr(table, "_speed_partitions", (-1, None))[0] == _writes:
        table.__dict__.setdefault("_speed_written", set()).add((hash_key, range_key))


def _slot(index_name: str, attribute: str, value: DynamoType) -> tuple[str, str, Any]:
    return (
        index_name,
        attribute,
        value.cast_value if value.type in ("S", "N") else json.dumps(value.to_json()),
    )


def put_item(self: Table, *args: Any, **kwargs: Any) -> Item:
    item = moto_put_item(self, *args, **kwargs)
    _note_item(self, item.hash_key, item.range_key)
    return item


def delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    try:
        return moto_delete_item(self, hash_key, range_key)
    finally:
        _note_item(self, hash_key, range_key)


def update_item(
    self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any
) -> Item:
    try:
        return moto_update_item(self, table_name, key, *args, **kwargs)
    finally:
        table = self.tables.get(table_name)
        if table is not None and table.hash_key_attr in key:
            range_value = key.get(table.range_key_attr) if table.range_key_attr else None
            _note_item(
                table,
                DynamoType(key[table.hash_key_attr]),
                DynamoType(range_value) if range_value is not None else None,
            )


def _ordered_partition(
    table: Table, index: SecondaryIndex, attribute: str, value: DynamoType, candidates: list[Item]
) -> tuple[list[Item], list[DynamoType]] | None:
    """The items of one index partition in moto's own index order, and their index sort keys
    (kept like the partitions, until the next write); None when moto's order is not the sort
    key's alone (no single range key, or two items with the same sort key)."""
    ranges = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
    hashes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
    if len(ranges) != 1 or len(hashes) != 1:
        return None
    kept: dict[tuple[str, str, Any], tuple[list[Item], list[DynamoType]] | None]
    writes, kept = getattr(table, "_speed_orders", (-1, {}))
    if writes != _writes:
        kept = {}
        table._speed_orders = (_writes, kept)  # type: ignore[attr-defined]
    slot = _slot(index.name, attribute, value)
    if slot not in kept:
        present = [item for item in candidates if item.attrs.get(ranges[0])]
        hash_names, range_names = [hashes[0], table.hash_key_attr], [ranges[0], table.range_key_attr]
        by = table._generate_attr_to_sort_by(hash_names, range_names)
        if all(item.attrs[name].type == "S" for item in present for name in by):
            # moto's order (its sorted_items) by the strings themselves, which DynamoType compares
            ordered = sorted(present, key=lambda item: tuple(item.attrs[name].value for name in by))
        else:
            ordered = table.sorted_items(hash_names, range_names, present)
        sort_keys = [item.attrs[ranges[0]] for item in ordered]
        unique = all(a != b for a, b in itertools.pairwise(sort_keys))
        kept[slot] = (ordered, sort_keys) if unique and {key.type for key in sort_keys} <= {"S"} else None
    return kept[slot]


def _window(
    ordered: list[Item],
    sort_keys: list[DynamoType],
    range_comparison: str | None,
    range_objs: list[DynamoType],
    exclusive_start_key: dict[str, Any] | None,
    range_attribute: str,
    forward: bool,
    limit: int | None,
) -> list[Item] | None:
    """The items a Query can reach, in index order: those its sort-key condition keeps, after
    its start key, and (its ``Limit`` counting every item evaluated) one more than the limit, so
    moto still sees that more follow. None: a condition this does not narrow (moto does)."""
    keys = [key.value for key in sort_keys]
    low, high = 0, len(ordered)
    values = [obj.value for obj in range_objs]
    if range_comparison:
        if any(obj.type != "S" for obj in range_objs):
            return None
        bounds = {
            "EQ": lambda: (bisect.bisect_left(keys, values[0]), bisect.bisect_right(keys, values[0])),
            "LT": lambda: (0, bisect.bisect_left(keys, values[0])),
            "LE": lambda: (0, bisect.bisect_right(keys, values[0])),
            "GT": lambda: (bisect.bisect_right(keys, values[0]), len(keys)),
            "GE": lambda: (bisect.bisect_left(keys, values[0]), len(keys)),
            "BETWEEN": lambda: (bisect.bisect_left(keys, values[0]), bisect.bisect_right(keys, values[1])),
            "BEGINS_WITH": lambda: (
                bisect.bisect_left(keys, values[0]),
                bisect.bisect_left(keys, values[0] + "\U0010ffff"),
            ),
        }.get(range_comparison)
        if bounds is None:
            return None
        low, high = bounds()
        high = max(low, high)
    if exclusive_start_key:
        start = exclusive_start_key.get(range_attribute, {}).get("S")
        if start is None:
            return None
        if forward:
            low = max(low, bisect.bisect_right(keys, start))
        else:
            high = min(high, bisect.bisect_left(keys, start))
    # moto answers a LastEvaluatedKey when the limit is reached before its last candidate, in the
    # window or not: the item right past the window (never returned) keeps that so.
    if forward:
        end = min(high, low + limit) if limit else high
        return ordered[low : end + 1]
    start = max(low, high - limit) if limit else low
    return ordered[max(0, start - 1) : high]


def all_items(self: Table) -> list[Item]:
    candidates = getattr(_partitions, "items", None)
    if candidates is not None and candidates[0] is self:
        return list(candidates[1])
    return moto_all_items(self)


def query(
    self: Table,
    hash_key: DynamoType | None,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    limit: int,
    exclusive_start_key: dict[str, Any],
    scan_index_forward: bool,
    projection_expressions: list[list[str]] | None,
    index_name: str | None = None,
    *args: Any,
    **kwargs: Any,
) -> Any:
    positional = (range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward)
    hash_conditions = kwargs.get("hash_key_conditions") or []
    if index_name and hash_conditions:
        attribute, value = hash_conditions[0]
        partition = _index_partitions(self, index_name, attribute).get(value)
        candidates: list[Item] = list(partition.values()) if partition else []
        narrowed = _narrowed(self, index_name, attribute, value, candidates, positional, kwargs)
        if narrowed is not None:
            candidates = narrowed
    elif not index_name and hash_key is not None:
        items = self.items.get(hash_key)
        if items is None:
            candidates = []
        else:
            candidates = list(items.values()) if self.range_key_attr else [items]
    else:
        return moto_query(self, hash_key, *positional, projection_expressions, index_name, *args, **kwargs)
    _partitions.items = (self, candidates)
    try:
        return moto_query(self, hash_key, *positional, projection_expressions, index_name, *args, **kwargs)
    finally:
        _partitions.items = None


def _narrowed(
    table: Table,
    index_name: str,
    attribute: str,
    value: DynamoType,
    candidates: list[Item],
    positional: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> list[Item] | None:
    """An index Query's candidates cut to what it can reach (``_window``), or None."""
    range_comparison, range_objs, limit, exclusive_start_key, forward = positional
    conditions = kwargs.get("range_key_conditions") or []
    others = set(kwargs) - {
        "consistent_read",
        "filter_expression",
        "hash_key_conditions",
        "range_key_conditions",
    }
    if len(kwargs.get("hash_key_conditions") or []) != 1 or len(conditions) > 1 or others:
        return None
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    if index is None:
        return None
    ordered = _ordered_partition(table, index, attribute, value, candidates)
    if ordered is None:
        return None
    range_attribute = next(key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE")
    if conditions and conditions[0][0] != range_attribute:
        return None
    return _window(
        *ordered, range_comparison, range_objs, exclusive_start_key, range_attribute, forward, limit
    )


# Types whose value moto compares and hashes as it is (its cast_value's last branch).
_AS_THEY_ARE = frozenset({"S", "B", "BOOL"})


def dynamo_type_init(self: DynamoType, type_as_dict: DynamoType | dict[str, Any]) -> None:
    """moto's ``DynamoType.__init__`` (the first type of a ``{type: value}``, or a copy of a
    DynamoType; a list's and a map's members wrapped), without two lists built per value: every
    attribute of every item written, read or copied is one."""
    if type(type_as_dict) is DynamoType:
        self.type, self.value = type_as_dict.type, type_as_dict.value
    else:
        self.type, self.value = next(iter(type_as_dict.items()))  # type: ignore[union-attr]
    if self.type == "L":
        self.value = [DynamoType(member) for member in self.value]
    elif self.type == "M":
        self.value = {name: DynamoType(member) for name, member in self.value.items()}


_SETS = frozenset({"SS", "NS", "BS"})


def _copied(value: DynamoType) -> DynamoType:
    """A copy of ``value`` sharing nothing that can change (a list's, a map's, a set's members)."""
    copied = DynamoType.__new__(DynamoType)
    kind = copied.type = value.type
    members = value.value
    if kind == "L":
        copied.value = [_copied(member) for member in members]
    elif kind == "M":
        copied.value = {name: _copied(member) for name, member in members.items()}
    elif kind in _SETS:
        copied.value = list(members)
    else:
        copied.value = members
    return copied


def dynamo_type_deepcopy(self: DynamoType, memo: dict[int, Any]) -> DynamoType:
    """moto's ``DynamoType.__deepcopy__`` without ``copy.deepcopy``'s bookkeeping per member
    (a value is a tree: nothing in it is shared or refers back)."""
    return _copied(self)


def item_deepcopy(self: Item, memo: dict[int, Any]) -> Item:
    """moto's ``Item.__deepcopy__`` (its attributes copied without checking their size again,
    which the item passed when written), each value copied by ``_copied``: a Scan copies every
    item it reads, a transaction each item it touches."""
    copied = Item.__new__(Item)
    memo[id(self)] = copied
    copied.hash_key = _copied(self.hash_key) if self.hash_key is not None else None
    copied.range_key = _copied(self.range_key) if self.range_key is not None else None
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(
        attrs,
        (
            (name, _copied(value) if type(value) is DynamoType else copy.deepcopy(value, memo))
            for name, value in self.attrs.items()
        ),
    )
    copied.attrs = attrs
    return copied


def cast_value(self: DynamoType) -> Any:
    """moto's ``cast_value``, with the string, binary and boolean answered first: every compare,
    hash and sort of a key goes through it, and it asked five questions of the type before
    answering the value itself."""
    if self.type in _AS_THEY_ARE:
        return self.value
    return moto_cast_value(self)


def size(self: DynamoType) -> int:
    """moto's ``size``, with a string's answered first (its UTF-8 length, as moto's last
    branch counts it): each Query sums the size of every attribute of every item it returns."""
    if self.type == "S":
        value = self.value
        return len(value if isinstance(value, bytes) else value.encode("utf-8"))
    return moto_size(self)


@functools.cache
def _moto_modules() -> frozenset[str]:
    return frozenset(moto_list_of_moto_modules())


def list_of_moto_modules() -> frozenset[str]:
    """moto's service packages, listed once: the server listed its own folder (and asked of each
    entry whether it is a folder) to route every request."""
    return _moto_modules()


def apply() -> None:
    """Install them (once per process)."""
    DynamoHandler.serialized = serialized  # type: ignore[method-assign]
    Item.__init__ = item_init  # type: ignore[method-assign]
    SecondaryIndex.project = project  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    DynamoType.cast_value = property(cast_value)  # type: ignore[assignment,method-assign]
    DynamoType.size = size  # type: ignore[method-assign]
    DynamoType.__init__ = dynamo_type_init  # type: ignore[method-assign]
    DynamoType.__deepcopy__ = dynamo_type_deepcopy  # type: ignore[method-assign]
    Item.__deepcopy__ = item_deepcopy  # type: ignore[method-assign]
    backends.list_of_moto_modules = list_of_moto_modules  # type: ignore[assignment]
