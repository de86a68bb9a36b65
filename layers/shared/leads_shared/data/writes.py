"""How the stores write: transactions with idempotency tokens, retries of transactions that only
collided with another one, and what a failed write means (``classify``)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from leads_shared.data.dynamo import av, cancellation_codes, error_code, unavailable
from leads_shared.errors import ServiceUnavailable

# Writes cancelled only by another transaction on the same items are tried this often.
TRANSIENT_ATTEMPTS = 6
THROTTLED_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})
BUSY = "The service is busy. Please retry shortly."


class VersionConflict(Exception):
    """The item changed (or vanished) between read and write: its ``version`` condition failed."""


class ConditionFailed(Exception):
    """A condition of the write did not hold (the caller says what that means). ``reasons``: the
    per-item cancellation codes of a transaction, in the order of its items (empty otherwise)."""

    def __init__(self, reasons: list[str] | None = None) -> None:
        super().__init__("condition failed")
        self.reasons = reasons or []

    def failed_items(self) -> list[int]:
        """Positions (in the transaction) of the items whose condition failed."""
        return [i for i, code in enumerate(self.reasons) if code == "ConditionalCheckFailed"]


def classify(exc: ClientError) -> str:
    """``condition`` (a condition failed), ``conflict`` (another transaction was in the way:
    retry), ``busy`` (throttled, or this very transaction still in progress: the client should
    retry later), or ``other``."""
    code = error_code(exc)
    if code == "ConditionalCheckFailedException":
        return "condition"
    if code == "TransactionConflictException":
        return "conflict"
    if code == "TransactionInProgressException":
        return "busy"
    if code == "TransactionCanceledException":
        reasons = cancellation_codes(exc)
        if "ConditionalCheckFailed" in reasons:
            return "condition"
        if THROTTLED_REASONS.intersection(reasons):
            return "busy"
        if "TransactionConflict" in reasons:
            return "conflict"
    return "other"


def transient_retries(call: Callable[[], Any]) -> Any:
    """Run a write; retry it (with jittered backoff) while DynamoDB cancels it only because
    another transaction was touching one of its items (the tenant's counters item is shared
    by every write of the tenant). A failed condition raises ``ConditionFailed``."""
    for attempt in range(TRANSIENT_ATTEMPTS):
        try:
            return call()
        except ClientError as exc:
            outcome = classify(exc)
            if outcome == "condition":
                raise ConditionFailed(cancellation_codes(exc)) from exc
            if outcome == "busy":
                raise ServiceUnavailable(BUSY) from exc
            if outcome != "conflict":
                raise unavailable(exc) from exc
            if attempt == TRANSIENT_ATTEMPTS - 1:
                raise ServiceUnavailable(BUSY) from exc
            time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not security
        except BotoCoreError as exc:
            raise unavailable(exc) from exc
    raise AssertionError("unreachable")


def put_if_version(table: str, item: dict[str, Any], version: int) -> dict[str, Any]:
    """The Put of ``item`` on condition that the stored item still has ``version`` (the one
    version condition of every read-check-write; a transaction item as ``{"Put": ...}``)."""
    return {
        "TableName": table,
        "Item": item,
        "ConditionExpression": "version = :expected",
        "ExpressionAttributeValues": {":expected": av(version)},
    }


def delete_if_version(table: str, key: dict[str, Any], version: int) -> dict[str, Any]:
    """The Delete of the item at ``key`` on condition that it still has ``version`` (a
    transaction item as ``{"Delete": ...}``)."""
    return {
        "TableName": table,
        "Key": key,
        "ConditionExpression": "version = :expected",
        "ExpressionAttributeValues": {":expected": av(version)},
    }


def replace_if_version(client: Any, table: str, item: dict[str, Any], version: int) -> None:
    """Write ``item`` if the stored one still has ``version`` (``VersionConflict`` otherwise)."""
    put = put_if_version(table, item, version)
    try:
        transient_retries(lambda: client.put_item(**put))
    except ConditionFailed as failed:
        raise VersionConflict() from failed
