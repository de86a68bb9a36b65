"""S3 and SQS deliver at least once, and a worker can die half-way: an upload is still imported
exactly once (no lead twice, no count twice), through the real S3 -> SQS -> worker path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leads_shared import versioning
from leads_shared.data import dynamo, get_lead_store
from leads_shared.data.import_store import ImportStore
from leads_shared.import_worker import CHUNK_ROWS
from tests.support.clients import lead_body
from tests.support.csv_files import ImportPath, csv_bytes


@pytest.fixture(scope="module")
def path(emulator):
    return ImportPath(emulator)


@pytest.fixture
def clean(path):
    path.purge()
    return path


def rows(count: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "first_name": f"Lead{n}",
            "last_name": "Import",
            "email": f"lead{n}@example.com",
            "status": "new",
            **extra,
        }
        for n in range(start, start + count)
    ]


def stored_lead_ids(tenant_id: str) -> list[int]:
    """Every lead item of the tenant, read from the table itself (not through the API)."""
    store = get_lead_store()
    pages = store.client.get_paginator("scan").paginate(
        TableName=store.table,
        FilterExpression="begins_with(PK, :p) AND SK = :sk",
        ExpressionAttributeValues={":p": {"S": f"TENANT#{tenant_id}#LEAD#"}, ":sk": {"S": "LEAD"}},
        ProjectionExpression="id",
    )
    return [int(item["id"]["N"]) for page in pages for item in page["Items"]]


def start(caller, path: ImportPath, content: bytes, **options: Any) -> str:
    started = caller.post("/leads/import", options or None)
    assert started.status_code == 201, started.json
    assert path.upload(started.json, content).status_code in (200, 204)
    return started.json["import_id"]


def receive_one(path: ImportPath) -> dict[str, Any]:
    (message,) = path.messages()
    return message


def deliver(path: ImportPath, message: dict[str, Any]) -> None:
    path.poller._process_batch(path.sources[0], [message], path.queue.arn, path.sqs)


def visible_again(path: ImportPath, message: dict[str, Any]) -> None:
    """What SQS does once the visibility timeout of a failed delivery runs out."""
    path.sqs.change_message_visibility(
        QueueUrl=path.queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )


def test_the_same_upload_event_delivered_twice_imports_once(clean, alice):
    left = clean.pending()  # hidden messages an earlier test's worker failed
    import_id = start(alice, clean, csv_bytes(rows(30)))
    message = receive_one(clean)
    deliver(clean, message)
    first = alice.get(f"/leads/imports/{import_id}").json
    assert (first["status"], first["created"]) == ("completed", 30)
    # S3 notifies again (at-least-once): the same event body arrives as a new message.
    clean.sqs.send_message(QueueUrl=clean.queue.url, MessageBody=message["Body"])
    assert clean.drain() == 1
    assert alice.get(f"/leads/imports/{import_id}").json == first
    assert sorted(stored_lead_ids(alice.tenant_id)) == list(range(1, 31))
    assert alice.get("/leads").json["total"] == 30 and clean.pending() == left  # both deleted


def test_a_worker_killed_after_its_first_batch_is_resumed_without_duplicates(clean, alice, monkeypatch):
    alice.post("/leads", lead_body(email="before@example.com"))  # lead 1, not the import's
    import_id = start(alice, clean, csv_bytes(rows(300)))  # chunks of CHUNK_ROWS (3) rows
    real_checkpoint = ImportStore.checkpoint
    calls = {"n": 0}

    def dies_right_after_the_second_chunk(self, *args, **kwargs):
        calls["n"] += 1
        committed = real_checkpoint(self, *args, **kwargs)  # the second chunk is committed...
        if calls["n"] == 2:
            raise RuntimeError("worker killed")  # ...and the process dies before going on
        return committed

    monkeypatch.setattr(ImportStore, "checkpoint", dies_right_after_the_second_chunk)
    message = receive_one(clean)
    deliver(clean, message)
    halfway = alice.get(f"/leads/imports/{import_id}").json
    assert halfway["status"] == "processing" and halfway["created"] == 2 * CHUNK_ROWS  # two chunks, once
    assert alice.get("/leads").json["total"] == 2 * CHUNK_ROWS + 1  # every visible lead is counted
    assert clean.messages() == []  # the failed message is invisible until its timeout...

    monkeypatch.setattr(ImportStore, "checkpoint", real_checkpoint)
    visible_again(clean, message)  # ...then SQS delivers it again
    assert clean.drain() == 1
    job = alice.get(f"/leads/imports/{import_id}").json
    assert (job["status"], job["total_rows"], job["created"], job["failed"]) == ("completed", 300, 300, 0)
    ids = stored_lead_ids(alice.tenant_id)
    assert len(ids) == len(set(ids)) == 301  # every row once, and the lead from before
    assert alice.get("/leads").json["total"] == 301
    assert alice.get("/leads", query={"status": "new"}).json["total"] == 301
    assert ImportStore(get_lead_store().table).get(alice.tenant_id, import_id).attempts == 2


def test_what_users_did_between_a_crash_and_the_retry_stays_done(clean, alice, monkeypatch):
    import_id = start(alice, clean, csv_bytes(rows(150)))  # chunks of CHUNK_ROWS (3) rows
    real_checkpoint = ImportStore.checkpoint
    calls = {"n": 0}

    def dies_before_the_second_commit(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real_checkpoint(self, *args, **kwargs)

    monkeypatch.setattr(ImportStore, "checkpoint", dies_before_the_second_commit)
    message = receive_one(clean)
    deliver(clean, message)
    # Meanwhile, users work with the leads the first chunk made.
    assert alice.delete("/leads/1").status_code == 200
    assert (
        alice.put(
            "/leads/2", {"first_name": "Lead1", "last_name": "Import", "status": "contacted"}
        ).status_code
        == 200
    )
    monkeypatch.setattr(ImportStore, "checkpoint", real_checkpoint)
    visible_again(clean, message)
    clean.drain()
    assert alice.get(f"/leads/imports/{import_id}").json["created"] == 150
    assert alice.get("/leads/1").status_code == 404  # not brought back
    assert alice.get("/leads/2").json["status"] == "contacted"  # not undone
    ids = stored_lead_ids(alice.tenant_id)
    assert len(ids) == 149 and alice.get("/leads").json["total"] == 149
    assert alice.get("/leads", query={"status": "contacted"}).json["total"] == 1
    assert alice.get("/leads", query={"status": "new"}).json["total"] == 148


def test_the_same_form_posted_again_cannot_change_a_started_import(clean, alice, monkeypatch):
    started = alice.post("/leads/import").json
    assert clean.upload(started, csv_bytes(rows(2))).status_code in (200, 204)
    real_checkpoint = ImportStore.checkpoint

    def busy(self, *args, **kwargs):
        raise RuntimeError("DynamoDB busy")

    monkeypatch.setattr(ImportStore, "checkpoint", busy)
    first = receive_one(clean)
    deliver(clean, first)  # ids reserved for the 2-row file; nothing written yet
    monkeypatch.setattr(ImportStore, "checkpoint", real_checkpoint)
    precious = alice.post("/leads", {"first_name": "Precious", "last_name": "Customer"}).json
    assert clean.upload(started, csv_bytes(rows(5, start=100))).status_code in (200, 204)
    visible_again(clean, first)
    clean.drain()
    job = alice.get(f"/leads/imports/{started['import_id']}").json
    assert (job["status"], job["total_rows"], job["created"]) == ("completed", 2, 2)
    assert alice.get(f"/leads/{precious['id']}").json["first_name"] == "Precious"
    assert sorted(stored_lead_ids(alice.tenant_id)) == [1, 2, 3]
    assert alice.get("/leads").json["total"] == 3


def test_updates_retried_after_a_crash_are_applied_once(clean, alice, monkeypatch):
    for n in range(3):
        alice.post("/leads", {"first_name": f"Lead{n}", "last_name": "Old", "email": f"LEAD{n}@example.com"})
    content = csv_bytes(rows(3, status="contacted"))
    import_id = start(alice, clean, content, mode="update")
    real_checkpoint = ImportStore.checkpoint

    def dies_before_counting(self, *args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(ImportStore, "checkpoint", dies_before_counting)
    message = receive_one(clean)
    deliver(clean, message)
    assert alice.get("/leads/1").json["last_name"] == "Import"  # the updates were written
    monkeypatch.setattr(ImportStore, "checkpoint", real_checkpoint)
    visible_again(clean, message)
    clean.drain()
    job = alice.get(f"/leads/imports/{import_id}").json
    assert (job["status"], job["updated"], job["created"]) == ("completed", 3, 0)
    lead = alice.get("/leads/1")
    assert lead.headers["ETag"] == '"2"'  # one update, not two
    assert lead.json["status"] == "contacted"
    assert alice.get("/leads", query={"status": "contacted"}).json["total"] == 3
    assert alice.get("/leads", query={"status": "new"}).json["total"] == 0


def test_events_that_are_not_imports_are_dropped_not_retried(clean, alice):
    left = clean.pending()  # hidden messages an earlier test's worker failed
    bucket = clean.emulator.resources["DataBucket"].name
    for key in ("imports/not-a-job.csv", f"imports/{alice.tenant_id}/{'0' * 32}.csv"):
        body = {"Records": [{"s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
        clean.sqs.send_message(QueueUrl=clean.queue.url, MessageBody=json.dumps(body))
    clean.sqs.send_message(QueueUrl=clean.queue.url, MessageBody=json.dumps({"Event": "s3:TestEvent"}))
    assert clean.drain() >= 1
    assert clean.pending() == left  # deleted as done, not left to come back (and end in the DLQ)


def test_a_chunk_another_attempt_committed_is_not_counted_twice(clean, alice, monkeypatch):
    """Two deliveries of the same event running at once: the one whose transaction comes second
    is told so (checkpoint answers False) and follows the job as stored."""
    import_id = start(alice, clean, csv_bytes(rows(150)))  # chunks of CHUNK_ROWS (3) rows
    real_checkpoint = ImportStore.checkpoint
    answers: list[tuple[int, bool]] = []

    def another_attempt_commits_first(self, job, chunk, *args, **kwargs):
        if chunk == 0:
            assert real_checkpoint(self, job, chunk, *args, **kwargs)  # the other attempt
        answers.append((chunk, real_checkpoint(self, job, chunk, *args, **kwargs)))
        return answers[-1][1]

    monkeypatch.setattr(ImportStore, "checkpoint", another_attempt_commits_first)
    deliver(clean, receive_one(clean))
    assert answers == [(0, False)] + [(chunk, True) for chunk in range(1, -(-150 // CHUNK_ROWS))]
    job = alice.get(f"/leads/imports/{import_id}").json
    assert (job["status"], job["total_rows"], job["created"]) == ("completed", 150, 150)
    assert sorted(stored_lead_ids(alice.tenant_id)) == list(range(1, 151))
    assert alice.get("/leads").json["total"] == 150


def test_a_reserved_id_found_taken_fails_the_job_with_the_reason(clean, alice, monkeypatch):
    left = clean.pending()  # hidden messages an earlier test's worker failed
    import_id = start(alice, clean, csv_bytes(rows(3)))
    real_checkpoint = ImportStore.checkpoint

    def an_id_is_taken(self, job, chunk, counts, deltas, new_leads):
        second = [item for item in new_leads if item["SK"]["S"] == "LEAD"][1]
        self.client.put_item(TableName=self.table, Item=second)  # a sequence behind the data
        return real_checkpoint(self, job, chunk, counts, deltas, new_leads)

    monkeypatch.setattr(ImportStore, "checkpoint", an_id_is_taken)
    deliver(clean, receive_one(clean))
    job = alice.get(f"/leads/imports/{import_id}").json
    assert job["status"] == "failed" and "reserved for this import are in use" in job["failure_reason"]
    assert job["created"] == 0  # nothing of the chunk written, nothing counted
    assert stored_lead_ids(alice.tenant_id) == [2] and alice.get("/leads").json["total"] == 0
    assert clean.pending() == left  # finished: not delivered again


# ------------------------------------------------------------------ mode=update against concurrent edits
class EditsBetweenReadAndWrite:
    """The real client, except that before each of the next ``edits`` conditional writes of lead
    ``lead_id``, another client changes that lead (what two users PUTting it in a loop do):
    the import's write then finds a version it did not read."""

    def __init__(self, client: Any, tenant_id: str, lead_id: int, edits: float, delete: bool = False) -> None:
        self._client = client
        self.table = get_lead_store().table
        self.key = {"PK": {"S": f"TENANT#{tenant_id}#LEAD#{lead_id}"}, "SK": {"S": "LEAD"}}
        self.edits = edits
        self.delete = delete
        self.made = 0

    def _concurrent_edit(self, item: dict[str, Any]) -> None:
        if {k: item.get(k) for k in self.key} != self.key or self.edits <= 0:
            return
        self.edits -= 1
        self.made += 1
        if self.delete:
            self._client.delete_item(TableName=self.table, Key=self.key)
            return
        self._client.update_item(
            TableName=self.table, Key=self.key,
            UpdateExpression="SET version = version + :one, notes = :notes",
            ExpressionAttributeValues={":one": {"N": "1"}, ":notes": {"S": f"edit {self.made}"}},
        )  # fmt: skip

    def put_item(self, **kwargs: Any) -> Any:
        self._concurrent_edit(kwargs["Item"])
        return self._client.put_item(**kwargs)

    def transact_write_items(self, **kwargs: Any) -> Any:
        for item in kwargs["TransactItems"]:
            if "Put" in item:
                self._concurrent_edit(item["Put"]["Item"])
        return self._client.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The worker's waits between attempts, counted instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr(versioning, "pause", waited.append)
    return waited


def edited_concurrently(monkeypatch, tenant_id: str, lead_id: int, edits: float, **kw: Any):
    client = EditsBetweenReadAndWrite(dynamo.dynamodb_client(), tenant_id, lead_id, edits, **kw)
    monkeypatch.setattr(dynamo, "dynamodb_client", lambda: client)
    return client


def update_row(email: str, **fields: Any) -> bytes:
    return csv_bytes([{"first_name": "Ada", "last_name": "Import", "email": email, **fields}])


def test_an_update_outlasts_concurrent_edits_and_loses_none(clean, alice, monkeypatch, waits):
    lead = alice.post("/leads", lead_body(email="busy@example.com", company="Old")).json
    import_id = start(
        alice, clean, update_row("busy@example.com", company="New", status="contacted"), mode="update"
    )
    edits = versioning.MAX_WRITE_ATTEMPTS + 4  # more than a request would try
    client = edited_concurrently(monkeypatch, alice.tenant_id, lead["id"], edits)
    deliver(clean, receive_one(clean))
    assert client.made == edits
    job = alice.get(f"/leads/imports/{import_id}").json
    assert (job["status"], job["updated"], job["failed"], job["errors"]) == ("completed", 1, 0, [])
    after = alice.get(f"/leads/{lead['id']}")
    assert (after.json["company"], after.json["status"]) == ("New", "contacted")  # applied...
    assert after.json["notes"] == f"edit {edits}"  # ...over the others' edits, none lost
    assert after.headers["ETag"] == f'"{1 + edits + 1}"'
    assert alice.get("/leads", query={"status": "contacted"}).json["total"] == 1
    # It waited between attempts, longer and longer (random, up to 50 ms doubled each time, at most 5 s).
    assert len(waits) == edits
    assert all(0 <= wait <= min(5.0, 0.05 * 2**n) for n, wait in enumerate(waits))


def test_an_update_that_never_gets_through_says_so(clean, alice, monkeypatch, waits):
    lead = alice.post("/leads", lead_body(email="busy@example.com", company="Old")).json
    import_id = start(alice, clean, update_row("busy@example.com", company="New"), mode="update")
    edited_concurrently(monkeypatch, alice.tenant_id, lead["id"], float("inf"))
    deliver(clean, receive_one(clean))
    job = alice.get(f"/leads/imports/{import_id}").json
    assert (job["status"], job["updated"], job["failed"]) == ("completed", 0, 1)
    ((error),) = job["errors"]
    assert error["field"] == "email"
    assert error["message"] == (
        f"Lead {lead['id']} was being changed by others throughout the import (30 attempts): "
        "the row was not applied. Import it again."
    )
    assert len(waits) == 29 and max(waits) <= 5.0
    assert alice.get(f"/leads/{lead['id']}").json["company"] == "Old"


def test_an_update_of_a_lead_deleted_meanwhile_says_so(clean, alice, monkeypatch, waits):
    lead = alice.post("/leads", lead_body(email="gone@example.com")).json
    import_id = start(alice, clean, update_row("gone@example.com", company="New"), mode="update")
    edited_concurrently(monkeypatch, alice.tenant_id, lead["id"], 1, delete=True)
    deliver(clean, receive_one(clean))
    job = alice.get(f"/leads/imports/{import_id}").json
    assert (job["updated"], job["failed"]) == (0, 1)
    assert (
        job["errors"][0]["message"]
        == f"Lead {lead['id']} was deleted during the import: the row was not applied."
    )
