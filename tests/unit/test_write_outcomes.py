"""How the data layer reads DynamoDB's refusals: a failed condition is the caller's business
(version changed, id taken), a conflict is retried, throttling is a 503, anything else a 500."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from leads_shared.data.writes import ConditionFailed, classify, transient_retries
from leads_shared.errors import ServiceUnavailable, StoreFailure


def cancelled(*reasons: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": reason} for reason in reasons],
        },
        "TransactWriteItems",
    )


def plain(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, "PutItem")


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (plain("ConditionalCheckFailedException"), "condition"),
        (cancelled("ConditionalCheckFailed", "None"), "condition"),
        (cancelled("None", "ConditionalCheckFailed"), "condition"),
        (cancelled("ConditionalCheckFailed", "TransactionConflict"), "condition"),
        (cancelled("None", "TransactionConflict"), "conflict"),
        (plain("TransactionConflictException"), "conflict"),
        (cancelled("None", "ThrottlingError"), "busy"),
        (cancelled("ProvisionedThroughputExceeded", "TransactionConflict"), "busy"),
        (plain("TransactionInProgressException"), "busy"),
        (cancelled("ValidationError", "None"), "other"),
        (plain("ValidationException"), "other"),
    ],
)
def testclassify(error, outcome):
    assert classify(error) == outcome


def failing_after(errors: list[Exception]):
    calls = []

    def call():
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "written"

    return call, calls


def test_conflicts_are_retried_then_succeed(monkeypatch):
    monkeypatch.setattr("leads_shared.data.writes.time.sleep", lambda _: None)
    call, calls = failing_after([cancelled("None", "TransactionConflict")] * 2)
    assert transient_retries(call) == "written" and len(calls) == 3


@pytest.mark.parametrize(
    ("errors", "raised", "attempts"),
    [
        ([cancelled("None", "TransactionConflict")] * 50, ServiceUnavailable, 6),
        ([cancelled("None", "ThrottlingError")], ServiceUnavailable, 1),
        ([cancelled("ConditionalCheckFailed", "None")], ConditionFailed, 1),
        ([plain("ValidationException")], StoreFailure, 1),
    ],
)
def test_what_is_not_retried(monkeypatch, errors, raised, attempts):
    monkeypatch.setattr("leads_shared.data.writes.time.sleep", lambda _: None)
    call, calls = failing_after(list(errors))
    with pytest.raises(raised):
        transient_retries(call)
    assert len(calls) == attempts
