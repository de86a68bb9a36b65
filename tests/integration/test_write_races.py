"""Writes that race other writes: nothing is lost, counted twice, or refused without reason.

The emulator applies requests one at a time, so races are staged here: a client that makes
DynamoDB cancel the next transactions because "another transaction" touched an item (what AWS
does when two writes of a tenant meet on its counters item), and reads that return a lead
someone else has changed since.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from leads_shared.data import dynamo, get_lead_store
from tests.support.clients import lead_body


class ConflictingClient:
    """The real client, except that the next ``conflicts`` write transactions are cancelled."""

    def __init__(self, client: Any, conflicts: int) -> None:
        self._client = client
        self.conflicts = conflicts
        self.tokens: list[str | None] = []

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.tokens.append(kwargs.get("ClientRequestToken"))
        if self.conflicts > 0:
            self.conflicts -= 1
            reasons = [{"Code": "None"}] * (len(kwargs["TransactItems"]) - 1) + [
                {"Code": "TransactionConflict"}
            ]
            raise ClientError(
                {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                 "CancellationReasons": reasons},
                "TransactWriteItems",
            )  # fmt: skip
        return self._client.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def conflicts(monkeypatch):
    real = dynamo.dynamodb_client()
    client = ConflictingClient(real, 0)
    monkeypatch.setattr(dynamo, "dynamodb_client", lambda: client)
    return client


def test_create_goes_through_transaction_conflicts(bob, conflicts):
    conflicts.conflicts = 3
    response = bob.post("/leads", lead_body(status="contacted"))
    assert response.status_code == 201 and response.json["id"] == 1
    assert conflicts.conflicts == 0
    # Every attempt is idempotent on its own (the SDK's retries reuse its token), and a new
    # attempt is a new transaction.
    assert len(conflicts.tokens) == 4 and None not in conflicts.tokens
    assert len(set(conflicts.tokens)) == 4
    assert bob.get("/leads", query={"status": "contacted"}).json["total"] == 1


def test_a_conflict_on_the_counters_is_not_a_412(bob, conflicts):
    etag = bob.post("/leads", lead_body()).headers["ETag"]
    conflicts.conflicts = 1
    response = bob.put("/leads/1", lead_body(status="contacted"), headers={"If-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'
    conflicts.conflicts = 1
    assert bob.delete("/leads/1", headers={"If-Match": '"2"'}).status_code == 200
    assert bob.get("/leads").json["total"] == 0


def test_endless_conflicts_are_a_503_with_nothing_written(bob, conflicts):
    bob.post("/leads", lead_body())
    conflicts.conflicts = 100
    response = bob.put("/leads/1", lead_body(status="contacted"))
    assert response.status_code == 503
    assert response.json == {"message": "The service is busy. Please retry shortly."}
    conflicts.conflicts = 0
    assert bob.get("/leads/1").json["status"] == "new"
    assert bob.get("/leads", query={"status": "contacted"}).json["total"] == 0


def bobs_first_read_is_older_than_alices_write(bob, alice, monkeypatch) -> Iterator[Any]:
    """Bob's next read of lead 1 returns it as it is now; then Alice changes its notes."""
    stale = get_lead_store().get_with_user(alice.tenant_id, 1, None)
    alice.put("/leads/1", lead_body(notes="Alice's note"))
    store_class = type(get_lead_store())
    real_read = store_class.get_with_user
    reads = iter([stale])

    def read(self, *args):
        return next(reads, None) or real_read(self, *args)

    monkeypatch.setattr(store_class, "get_with_user", read)
    return reads  # empty once Bob's request has read the stale lead


def test_an_update_that_lost_a_race_is_applied_to_the_fresh_lead(bob, alice, monkeypatch):
    bob.post("/leads", lead_body(notes="original"))
    stale_reads = bobs_first_read_is_older_than_alices_write(bob, alice, monkeypatch)
    response = bob.put("/leads/1", lead_body(status="contacted"))
    assert next(stale_reads, None) is None
    assert response.status_code == 200
    assert response.json["notes"] == "Alice's note"  # not overwritten with what Bob had read
    assert response.json["status"] == "contacted" and response.headers["ETag"] == '"3"'


def test_with_if_match_the_same_race_is_a_412(bob, alice, monkeypatch):
    bob.post("/leads", lead_body())
    stale_reads = bobs_first_read_is_older_than_alices_write(bob, alice, monkeypatch)
    response = bob.put("/leads/1", lead_body(status="contacted"), headers={"If-Match": '"1"'})
    assert next(stale_reads, None) is None
    assert response.status_code == 412
    assert bob.get("/leads/1").json["notes"] == "Alice's note"


def test_a_deleted_leads_id_is_never_reused(bob):
    for _ in range(2):
        bob.post("/leads", lead_body())
    bob.delete("/leads/2")
    assert bob.post("/leads", lead_body()).json["id"] == 3


class LostAnswerClient:
    """The real client, except that the next write of a lead (a put_item, or the transaction of
    the lead with its index entries) is applied and then reported as failed by its (SDK) retry,
    as when the first answer is lost on the network."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.lost = 1

    def put_item(self, **kwargs: Any) -> Any:
        answer = self._client.put_item(**kwargs)
        if self.lost:
            self.lost -= 1
            raise ClientError(
                {"Error": {"Code": "ConditionalCheckFailedException", "Message": "retry"}}, "PutItem"
            )
        return answer

    def transact_write_items(self, **kwargs: Any) -> Any:
        answer = self._client.transact_write_items(**kwargs)
        if self.lost:
            self.lost -= 1
            reasons = [{"Code": "ConditionalCheckFailed"}] + [{"Code": "None"}] * (
                len(kwargs["TransactItems"]) - 1
            )
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "retry"},
                    "CancellationReasons": reasons,
                },
                "TransactWriteItems",
            )
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_write_whose_answer_was_lost_is_not_a_412(bob, monkeypatch):
    etag = bob.post("/leads", lead_body()).headers["ETag"]
    client = LostAnswerClient(dynamo.dynamodb_client())
    monkeypatch.setattr(dynamo, "dynamodb_client", lambda: client)
    response = bob.put("/leads/1", lead_body(notes="once"), headers={"If-Match": etag})
    assert client.lost == 0
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'
    assert bob.get("/leads/1").json["notes"] == "once"
