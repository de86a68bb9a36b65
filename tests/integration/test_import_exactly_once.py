"""S3 and SQS deliver at least once, and a worker can die half-way: an upload is still imported
exactly once (no lead twice, no count twice), through the real S3 -> SQS -> worker path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leads_shared.data import get_lead_store
from leads_shared.data.import_store import ImportStore
from leads_shared.data.lead_store import LeadStore
from tests.integration.conftest import lead_body
from tests.integration.csv_support import ImportPath, csv_bytes


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
    assert alice.get("/leads").json["total"] == 30 and clean.messages() == []


def test_a_worker_killed_after_its_first_batch_is_resumed_without_duplicates(clean, alice, monkeypatch):
    alice.post("/leads", lead_body(email="before@example.com"))  # lead 1, not the import's
    import_id = start(alice, clean, csv_bytes(rows(1200)))  # three chunks of 500
    real_put_many = LeadStore.put_many
    calls = {"n": 0}

    def dies_during_the_second_chunk(self, leads):
        calls["n"] += 1
        real_put_many(self, leads)  # the second chunk's leads are written...
        if calls["n"] == 2:
            raise RuntimeError("worker killed")  # ...but the process dies before counting them

    monkeypatch.setattr(LeadStore, "put_many", dies_during_the_second_chunk)
    message = receive_one(clean)
    deliver(clean, message)
    halfway = alice.get(f"/leads/imports/{import_id}").json
    assert halfway["status"] == "processing" and halfway["created"] == 500  # chunk 1 counted once
    assert clean.messages() == []  # the failed message is invisible until its timeout...

    monkeypatch.setattr(LeadStore, "put_many", real_put_many)
    visible_again(clean, message)  # ...then SQS delivers it again
    assert clean.drain() == 1
    job = alice.get(f"/leads/imports/{import_id}").json
    assert (job["status"], job["total_rows"], job["created"], job["failed"]) == ("completed", 1200, 1200, 0)
    ids = stored_lead_ids(alice.tenant_id)
    assert len(ids) == len(set(ids)) == 1201  # every row once, and the lead from before
    assert alice.get("/leads").json["total"] == 1201
    assert alice.get("/leads", query={"status": "new"}).json["total"] == 1201
    assert ImportStore(get_lead_store().table).get(alice.tenant_id, import_id).attempts == 2


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
    bucket = clean.emulator.resources["DataBucket"].name
    for key in ("imports/not-a-job.csv", f"imports/{alice.tenant_id}/{'0' * 32}.csv"):
        body = {"Records": [{"s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
        clean.sqs.send_message(QueueUrl=clean.queue.url, MessageBody=json.dumps(body))
    clean.sqs.send_message(QueueUrl=clean.queue.url, MessageBody=json.dumps({"Event": "s3:TestEvent"}))
    assert clean.drain() >= 1
    assert clean.messages() == []
