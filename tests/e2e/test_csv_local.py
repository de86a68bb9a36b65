"""CSV against `make dev` over real HTTP: a client uploads with the presigned form (or `curl -F`)
and the local stack imports it on its own (emulator bucket -> queue -> poller -> worker), then
exports and downloads; the same path as on AWS, with no extra step."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.e2e.conftest import bearer, token_for

pytestmark = pytest.mark.e2e

CSV = (
    "\ufefffirst_name;last_name;email;company\r\n"
    'Grace;Hopper;grace@navy.mil;=HYPERLINK("x")\r\n'
    "Linus;;linus@example.com;\r\n"
).encode()


@pytest.fixture
def csv_admin() -> dict[str, str]:
    """The admin of a tenant of each test's own (the demo tenants keep their promised data, and
    no test sees another's leads)."""
    return bearer(token_for(1, f"e2e-csv-{uuid.uuid4().hex[:8]}", role="admin"))


def wait_for_import(base_url: str, headers: dict[str, str], import_id: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = requests.get(f"{base_url}/leads/imports/{import_id}", headers=headers, timeout=10).json()
        if job["status"] in ("completed", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"import {import_id} did not finish: {job}")


def test_presigned_upload_is_imported_by_the_local_worker(base_url, csv_admin):
    started = requests.post(
        f"{base_url}/leads/import", json={"filename": "navy.csv"}, headers=csv_admin, timeout=10
    )
    assert started.status_code == 201, started.text
    upload = started.json()["upload"]
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("navy.csv", CSV)}, timeout=10)
    assert sent.status_code in (200, 204), sent.text

    job = wait_for_import(base_url, csv_admin, started.json()["import_id"])
    assert (job["status"], job["total_rows"], job["created"], job["failed"]) == ("completed", 2, 1, 1)
    required = "The last name field is required."
    assert job["errors"] == [{"row": 3, "line": 3, "field": "last_name", "message": required}]
    report = requests.get(job["error_report_url"], timeout=10)
    assert report.status_code == 200 and b"linus@example.com" in report.content

    export = requests.get(f"{base_url}/leads/export", headers=csv_admin, timeout=10)
    assert export.status_code == 200 and export.json()["row_count"] == 1  # Grace
    content = requests.get(export.json()["download_url"], timeout=10).content
    assert content.startswith(b"\xef\xbb\xbfid,first_name,last_name,")
    assert b"'=HYPERLINK" in content  # a spreadsheet shows it, never runs it


def test_curl_form_upload_is_queued_and_imported(base_url, csv_admin):
    form = {"file": ("more.csv", b"first_name,last_name,email\nAda,Lovelace,ada@engines.io\n", "text/csv")}
    answer = requests.post(
        f"{base_url}/leads/import", files=form, data={"mode": "skip"}, headers=csv_admin, timeout=10
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "queued" and answer.json()["upload"] is None
    job = wait_for_import(base_url, csv_admin, answer.json()["import_id"])
    assert (job["status"], job["created"]) == ("completed", 1)


def test_an_export_job_is_run_by_the_local_worker(base_url, csv_admin):
    """POST /leads/exports queues the job; the local stack's poller runs the export worker on its
    message, as Lambda's event source would; the file is the synchronous export's."""
    for name in ("Ada", "Grace"):
        lead = {"first_name": name, "last_name": "Test", "status": "new"}
        assert requests.post(f"{base_url}/leads", json=lead, headers=csv_admin, timeout=10).status_code == 201
    started = requests.post(
        f"{base_url}/leads/exports", params={"status": "new"}, headers=csv_admin, timeout=10
    )
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    assert location == f"/leads/exports/{started.json()['export_id']}"

    deadline = time.monotonic() + 30
    while (job := requests.get(f"{base_url}{location}", headers=csv_admin, timeout=10).json())["status"] in (
        "queued",
        "running",
    ) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (job["status"], job["row_count"], job["progress"]) == ("done", 2, 2), job
    exported = requests.get(
        f"{base_url}/leads/export", params={"status": "new"}, headers=csv_admin, timeout=10
    )
    synchronous = requests.get(exported.json()["download_url"], timeout=10).content
    assert requests.get(job["download_url"], timeout=10).content == synchronous
