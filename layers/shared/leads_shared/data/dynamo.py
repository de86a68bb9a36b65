"""The DynamoDB client, item (de)serialisation, a request meter, and ClientError translation.

Only the data layer (this package) imports boto3/botocore.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from leads_shared.config import get_settings
from leads_shared.errors import DomainError, ServiceUnavailable, StoreFailure
from leads_shared.keys import KEY_ATTRIBUTES

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)


@dataclass
class DynamoMeter:
    """Counts DynamoDB requests and items read, per operation. Deterministic, so tests and the
    benchmark can state what a route costs. One process serves one request at a time on Lambda;
    the lock keeps counts right when the local stack runs functions in threads."""

    requests: int = 0
    items_read: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.items_read = 0
            self.by_operation = {}

    def record(self, operation: str, parsed: Mapping[str, Any]) -> None:
        with self._lock:
            self.requests += 1
            self.by_operation[operation] = self.by_operation.get(operation, 0) + 1
            self.items_read += _items_read(operation, parsed)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "items_read": self.items_read,
                "by_operation": dict(self.by_operation),
            }


def _items_read(operation: str, parsed: Mapping[str, Any]) -> int:
    if operation == "GetItem":
        return 1 if "Item" in parsed else 0
    if operation in ("Query", "Scan"):
        return int(parsed.get("ScannedCount", parsed.get("Count", 0)))
    if operation == "BatchGetItem":
        return sum(len(items) for items in parsed.get("Responses", {}).values())
    if operation == "TransactGetItems":
        return sum(1 for response in parsed.get("Responses", []) if "Item" in response)
    return 0


meter = DynamoMeter()


def _record_call(http_response: Any, parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
    meter.record(model.name, parsed)


@lru_cache(maxsize=1)
def dynamodb_client() -> Any:
    """One client per process, created on first use (not at import: keeps cold starts short).
    The endpoint comes from the standard ``AWS_ENDPOINT_URL`` when set (the local emulator)."""
    client = boto3.client(
        "dynamodb",
        config=Config(
            retries={"mode": "standard", "max_attempts": 4},
            connect_timeout=2,
            read_timeout=get_settings().dynamodb_read_timeout_seconds,
        ),
    )
    client.meta.events.register("after-call.dynamodb", _record_call)
    return client


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values to a DynamoDB item; ``None`` values are left out, floats stored exactly as
    written (``12.5`` is the number 12.5, not a binary approximation)."""
    return {
        k: _serializer.serialize(Decimal(str(v)) if isinstance(v, float) else v)
        for k, v in values.items()
        if v is not None
    }


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: _deserializer.deserialize(v) for k, v in item.items()}
    # Numbers come back as Decimal: ids and counts are integers, amounts may have decimals.
    return {k: _number(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def stored_values(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's own attributes, without the key attributes that only serve the table."""
    return {k: v for k, v in from_item(item).items() if k not in KEY_ATTRIBUTES}


class TableStore:
    """Base of the stores: one table, and one client (the process's, or one a test passes)."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = table_name
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or dynamodb_client()

    def batch_get(self, keys: Sequence[dict[str, str]], consistent: bool) -> list[dict[str, Any]]:
        """BatchGetItem with retries of unprocessed keys (exponential backoff)."""
        found: list[dict[str, Any]] = []
        pending = [to_item(key) for key in keys]
        for start in range(0, len(pending), BATCH_GET_LIMIT):
            request = {
                self.table: {"Keys": pending[start : start + BATCH_GET_LIMIT], "ConsistentRead": consistent}
            }
            attempt = 0
            while request:
                with store_errors():
                    response = self.client.batch_get_item(RequestItems=request)
                found.extend(response.get("Responses", {}).get(self.table, []))
                request = response.get("UnprocessedKeys") or {}
                if request:
                    attempt += 1
                    if attempt > 8:
                        raise StoreFailure("BatchGetItem kept leaving keys unprocessed")
                    time.sleep(min(0.05 * 2**attempt, 1.0))
        return found

    def get_values(self, key: dict[str, str]) -> dict[str, Any] | None:
        """One item's own attributes (consistent read), or None."""
        with store_errors():
            response = self.client.get_item(TableName=self.table, Key=to_item(key), ConsistentRead=True)
        item = response.get("Item")
        return stored_values(item) if item else None

    def fetch(self, named: Mapping[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
        """Several items by key in one consistent request: ``{name: key}`` to ``{name: values}``
        (the item's own attributes) for the ones that exist."""
        if not named:
            return {}
        names = {(key["PK"], key["SK"]): name for name, key in named.items()}
        found = self.batch_get(list(named.values()), consistent=True)
        return {names[(item["PK"]["S"], item["SK"]["S"])]: stored_values(item) for item in found}

    def batch_write(self, requests: Sequence[dict[str, Any]]) -> None:
        """BatchWriteItem (``{"PutRequest": ...}`` / ``{"DeleteRequest": ...}`` each) in groups of
        25, retrying unprocessed items with exponential backoff."""
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending = list(requests[start : start + BATCH_WRITE_LIMIT])
            attempt = 0
            while pending:
                with store_errors():
                    response = self.client.batch_write_item(RequestItems={self.table: pending})
                pending = response.get("UnprocessedItems", {}).get(self.table, [])
                if pending:
                    attempt += 1
                    if attempt > 8:
                        raise StoreFailure("BatchWriteItem kept leaving items unprocessed")
                    time.sleep(min(0.05 * 2**attempt, 1.0))

    def batch_delete(self, keys: Sequence[dict[str, Any]]) -> None:
        """Delete items by their keys (DynamoDB-typed ``{"PK": {"S": ...}, "SK": ...}``)."""
        self.batch_write([{"DeleteRequest": {"Key": key}} for key in keys])

    def transact(self, items: list[dict[str, Any]]) -> Any:
        """One transaction attempt. Its token makes the SDK's own retries (after a timeout, say)
        idempotent: a transaction that committed but whose answer was lost is not applied again,
        nor reported as a failed condition. Each new attempt gets a new token."""
        return self.client.transact_write_items(TransactItems=items, ClientRequestToken=uuid.uuid4().hex)


def av(value: Any) -> dict[str, Any]:
    """One attribute value (for expression values)."""
    return _serializer.serialize(value)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def cancellation_codes(exc: ClientError) -> list[str]:
    """The per-item reasons of a cancelled transaction, in the order of its items."""
    reasons = exc.response.get("CancellationReasons", [])
    return [str(reason.get("Code", "None")) for reason in reasons]


def unavailable(exc: ClientError | BotoCoreError) -> DomainError:
    """What an unexpected store failure becomes. The boto3 text goes to the logs (through the
    exception's ``__cause__``), never to clients."""
    if isinstance(exc, ClientError):
        if error_code(exc) in THROTTLING_CODES:
            return ServiceUnavailable("The service is busy. Please retry shortly.")
        return StoreFailure(f"DynamoDB {error_code(exc)}")
    return ServiceUnavailable("The data store is unavailable. Please retry shortly.")


@contextmanager
def store_errors() -> Iterator[None]:
    """Turn any boto3 failure inside the block into a domain error."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise unavailable(exc) from exc


def query_pages(client: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page of a Query (the paginator is avoided to keep kwargs explicit)."""
    while True:
        page = client.query(**kwargs)
        yield page
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last
