"""Export jobs (POST /leads/exports, GET /leads/exports/{id}) through the local gateway, the export
queue and the worker's handler against the emulator: the file is the synchronous export's, byte
for byte; a job is its tenant's alone and its admins'; a redelivered message writes nothing twice;
a failure marks the job failed and leaves no upload behind; a run that runs out of time hands the
job to a new message, which finishes the same file. And GET /leads/export past its limit answers
409, naming the job."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from devstack.runtime import LambdaFunction
from devstack.template import REPO_ROOT
from leads_shared import export_jobs, export_worker
from leads_shared.auth import Principal
from leads_shared.config import get_settings
from leads_shared.data import (
    get_blob_store,
    get_directory_store,
    get_export_queue,
    get_export_store,
    get_lead_store,
)
from leads_shared.data.blob_store import BlobStore
from leads_shared.data.export_store import ExportStore
from leads_shared.data.job_queue import JobQueue
from leads_shared.errors import ServiceUnavailable, StoreFailure
from leads_shared.export_worker import ExportRequest
from leads_shared.lead_listing import LeadFilters
from leads_shared.models.exports import ExportJob
from tests.support.bulk_leads import bulk_leads
from tests.support.clients import Caller, Tenant
from tests.support.csv_files import ExportPath

PLENTY_MS = 900_000
QUERIES = [
    {},
    {"status": "new", "sort_by": "email", "sort_dir": "desc"},
    {"sort_by": "created_at", "sort_dir": "DESC"},
    {"search": "ann", "scope": "team"},
]


@pytest.fixture(scope="module")
def export_path(emulator) -> ExportPath:
    return ExportPath(emulator)


@pytest.fixture
def path(export_path: ExportPath) -> ExportPath:
    export_path.purge()
    return export_path


@pytest.fixture
def leads_of(tenant: Tenant) -> Iterator[int]:
    bulk_leads(tenant.tenant_id, 40)
    yield 40


def start(caller: Caller, **query: Any) -> dict[str, Any]:
    response = caller.post("/leads/exports", query=query or None)
    assert response.status_code == 202, response.json
    job = response.json
    assert response.headers["Location"] == f"/leads/exports/{job['export_id']}"
    return job


def status(caller: Caller, export_id: str) -> dict[str, Any]:
    response = caller.get(f"/leads/exports/{export_id}")
    assert response.status_code == 200, response.json
    return response.json


def sync_file(caller: Caller, **query: Any) -> bytes:
    answer = caller.get("/leads/export", query=query or None)
    assert answer.status_code == 200, answer.json
    return download(answer.json["download_url"])


def download(url: str) -> bytes:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    return response.content


def stored_job_key(caller: Caller, export_id: str) -> str:
    job = get_export_store().get(caller.tenant_id, export_id)
    assert job is not None
    return job.key


def stored(tenant: Tenant, export_id: str) -> ExportJob:
    job = get_export_store().get(tenant.tenant_id, export_id)
    assert job is not None
    return job


def run(body: dict[str, Any], blobs: Any = None, remaining_ms: Any = lambda: PLENTY_MS, **kw: Any) -> Any:
    return export_worker.run_message(
        body, get_export_store(), get_lead_store(), get_directory_store(), blobs or get_blob_store(),
        get_export_queue(), remaining_ms, **kw,
    )  # fmt: skip


def uploads_in_progress(key: str) -> list[dict[str, Any]]:
    blobs = get_blob_store()
    return list(blobs.client.list_multipart_uploads(Bucket=blobs.bucket, Prefix=key).get("Uploads", []))


def versions(key: str) -> int:
    blobs = get_blob_store()
    return len(blobs.client.list_object_versions(Bucket=blobs.bucket, Prefix=key).get("Versions", []))


# ------------------------------------------------------------------ the job
@pytest.mark.parametrize("query", QUERIES, ids=lambda q: ",".join(f"{k}={v}" for k, v in q.items()) or "all")
def test_a_job_is_queued_then_done_with_the_file_of_the_synchronous_export(alice, leads_of, path, query):
    job = start(alice, **query)
    assert job["status"] == "queued" and job["progress"] == 0 and job["download_url"] is None
    assert {k: v for k, v in job["filters"].items() if k in query} == {
        k: v.upper() if k == "sort_dir" else v for k, v in query.items()
    }
    assert status(alice, job["export_id"])["status"] == "queued"

    assert path.drain() == 1

    done = status(alice, job["export_id"])
    assert done["status"] == "done" and done["finished_at"] and done["started_at"]
    assert done["progress"] == done["row_count"]
    content = download(done["download_url"])
    assert content == sync_file(alice, **query)
    assert content.count(b"\r\n") == done["row_count"] + 1  # the header, then one line a lead
    assert done["filename"].startswith("leads_") and done["expires_at"]
    assert path.pending() == 0


def test_an_empty_export_is_the_header_alone(alice, path):
    job = start(alice)
    path.drain()
    done = status(alice, job["export_id"])
    assert done["row_count"] == 0
    assert download(done["download_url"]) == sync_file(alice)


def test_the_download_url_is_presigned_when_asked_for_15_minutes(alice, leads_of, path):
    job = start(alice)
    path.drain()
    url = status(alice, job["export_id"])["download_url"]
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["900"] and "X-Amz-Signature" in query
    stored_key = stored_job_key(alice, job["export_id"])
    assert urlparse(url).path.endswith(stored_key)


def test_another_tenants_job_and_an_unknown_id_are_not_found(alice, other_tenant, leads_of, path):
    job = start(alice)
    path.drain()
    stranger = other_tenant.as_user(1)
    for export_id in (job["export_id"], "0" * 32, "x"):
        missing = stranger.get(f"/leads/exports/{export_id}")
        assert missing.status_code == 404 and set(missing.json) == {"message"}
    assert alice.get("/leads/exports/" + "0" * 32).status_code == 404


def test_jobs_are_for_admins_as_the_export_is(tenant, alice, bob, path):
    job = start(alice)
    for call in (lambda c: c.post("/leads/exports"), lambda c: c.get(f"/leads/exports/{job['export_id']}")):
        assert call(bob).status_code == 403
        assert call(tenant.anonymous()).status_code == 401
    assert path.pending() == 1  # bob's refused POST queued nothing


def test_the_filters_are_validated_as_the_exports(alice, path):
    refused = alice.post("/leads/exports", query={"status": "gone", "sort_by": "x"})
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"status", "sort_by"}
    backwards = {"date_from": "2026-02-01", "date_to": "2026-01-01"}
    assert alice.get("/leads/export", query=backwards).status_code == 422
    refused = alice.post("/leads/exports", query=backwards)
    assert refused.status_code == 422 and set(refused.json["errors"]) == {"date_to"}
    assert path.pending() == 0


# ------------------------------------------------------------------ at most once
def test_a_redelivered_message_writes_nothing_twice(alice, tenant, leads_of, path):
    job = start(alice)
    (message,) = path.messages()
    body = json.loads(message["Body"])
    done = run(body)
    assert done is not None and done.status == "done"
    key = done.key

    again = run(body)  # SQS delivers it again (the first answer lost, say)

    assert again == stored(tenant, job["export_id"]) == done
    assert versions(key) == 1 and uploads_in_progress(key) == []


def test_a_message_for_a_job_another_run_holds_does_nothing(alice, tenant, leads_of, path):
    job = start(alice)
    (message,) = path.messages()
    body = json.loads(message["Body"])
    held = get_export_store().claim(stored(tenant, job["export_id"]), "other-run", 0, 2**40, "now")
    assert held is not None

    assert run(body) is None

    after = stored(tenant, job["export_id"])
    assert after.claim == "other-run" and after.upload_id is None and after.parts == []
    assert uploads_in_progress(held.key) == [] and versions(held.key) == 0


def test_a_message_naming_no_job_is_dropped(path):
    assert run({"tenant_id": "nobody", "export_id": "0" * 32}) is None
    assert run("not a job") is None


# ------------------------------------------------------------------ failure
class FailingBlobs(BlobStore):
    """S3 refuses the second part (after the upload started and a part was written)."""

    def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        if number >= 2:
            raise StoreFailure("S3 InternalError")
        return super().upload_part(key, upload_id, number, data)


def test_a_failure_marks_the_job_failed_and_aborts_the_upload(alice, tenant, leads_of, path, monkeypatch):
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 256)
    job = start(alice)
    (message,) = path.messages()
    blobs = FailingBlobs(get_blob_store().bucket)

    failed = run(json.loads(message["Body"]), blobs, part_bytes=1024)

    assert failed is not None and failed.status == "failed"
    answer = status(alice, job["export_id"])
    assert answer["status"] == "failed" and answer["download_url"] is None
    assert answer["failure_reason"] == export_worker.UNEXPECTED.format(export_id=job["export_id"])
    assert uploads_in_progress(failed.key) == [] and versions(failed.key) == 0
    assert run(json.loads(message["Body"])) == stored(tenant, job["export_id"])  # failed stays failed


# ------------------------------------------------------------------ Lambda's 15 minutes
def test_a_run_out_of_time_hands_over_and_the_next_one_finishes_the_same_file(
    alice, tenant, leads_of, path, monkeypatch
):
    """The emulator's minimum part size is lowered (S3's is 5 MiB) so that 40 leads make parts."""
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 256)
    query = {"sort_by": "company_name", "sort_dir": "DESC"}
    job = start(alice, **query)
    (message,) = path.messages()
    path.purge()
    left = iter([PLENTY_MS, PLENTY_MS, 1_000])  # the claim, after part 1, after part 2: short

    handed_over = run(json.loads(message["Body"]), remaining_ms=lambda: next(left), part_bytes=1024)

    assert handed_over is not None and handed_over.status == "queued" and handed_over.claim is None
    assert len(handed_over.parts) == 2 and 0 < handed_over.rows_written < leads_of
    assert status(alice, job["export_id"])["progress"] == handed_over.rows_written
    (continuation,) = path.messages()
    assert json.loads(continuation["Body"]) == json.loads(message["Body"])

    done = run(json.loads(continuation["Body"]), part_bytes=1024)

    assert done is not None and done.status == "done" and done.runs == 1 and done.attempts == 2
    assert len(done.parts) > 2 and done.row_count == leads_of
    answer = status(alice, job["export_id"])
    assert download(answer["download_url"]) == sync_file(alice, **query)


# ------------------------------------------------------------------ the synchronous export's limit
@pytest.fixture
def sync_limit(monkeypatch) -> Iterator[int]:
    monkeypatch.setenv("SYNC_EXPORT_MAX_LEADS", "25")
    get_settings.cache_clear()
    yield 25
    monkeypatch.undo()
    get_settings.cache_clear()


def test_past_its_limit_the_synchronous_export_names_the_export_job(alice, leads_of, sync_limit, path):
    refused = alice.get("/leads/export")
    assert refused.status_code == 409
    assert set(refused.json) == {"message"}
    assert "40 leads" in refused.json["message"] and "25" in refused.json["message"]
    assert "POST /leads/exports" in refused.json["message"]
    assert alice.get("/leads/export", query={"sort_by": "email"}).status_code == 409  # narrow list: 40

    new = alice.get("/leads", query={"status": "new"}).json["total"]
    fits = alice.get("/leads/export", query={"status": "new"})  # the counters say: fewer than 25
    assert new <= 25 and fits.status_code == 200 and fits.json["row_count"] == new
    ann = alice.get("/leads", query={"search": "ann"}).json["total"]
    narrow = alice.get("/leads/export", query={"search": "ann"})  # the narrow list's count
    assert ann <= 25 and narrow.status_code == 200 and narrow.json["row_count"] == ann

    job = start(alice)  # the job takes them all
    path.drain()
    assert status(alice, job["export_id"])["row_count"] == leads_of


# ------------------------------------------------------------------ the API's side
class RecordingStore(ExportStore):
    """The real store, keeping the jobs it created (their ids are not answered on a 503)."""

    def __init__(self) -> None:
        super().__init__(get_export_store().table)
        self.created: list[ExportJob] = []

    def create(self, job: ExportJob) -> None:
        super().create(job)
        self.created.append(job)


def test_a_job_whose_message_cannot_be_queued_is_failed_and_the_post_is_a_503(alice, tenant):
    store = RecordingStore()
    principal = Principal(user_id=1, tenant_id=tenant.tenant_id, role="admin")
    with pytest.raises(ServiceUnavailable):
        export_jobs.start_export(principal, LeadFilters(), store, JobQueue(""))
    (job,) = store.created
    failed = status(alice, job.export_id)
    assert failed["status"] == "failed" and failed["failure_reason"] == export_jobs.NOT_QUEUED
    assert run(ExportRequest(tenant.tenant_id, job.export_id).message()) == stored(tenant, job.export_id)


def test_location_keeps_the_stage_the_caller_called_through(emulator, alice):
    """On API Gateway's own domain the path has the stage first (`/dev/leads/exports`)."""
    event = json.loads((REPO_ROOT / "events" / "transfers" / "start_export.json").read_text())
    event["headers"]["Authorization"] = f"Bearer {alice.token}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {alice.token}"]
    answer = LambdaFunction(emulator.template.function("TransfersFunction")).invoke(event)
    assert answer["statusCode"] == 202, answer
    export_id = json.loads(answer["body"])["export_id"]
    headers = {
        **(answer.get("headers") or {}),
        **{k: v[0] for k, v in (answer.get("multiValueHeaders") or {}).items()},
    }
    assert headers["Location"] == f"/dev/leads/exports/{export_id}"
