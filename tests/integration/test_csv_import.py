"""CSV import through the real path: POST /leads/import -> presigned POST to S3 (or a small file
posted to the API) -> bucket notification -> queue -> import worker -> GET /leads/imports/{id}.

What users rely on: the job's answer, the parsing of the files spreadsheets write, rows
validated like POST /leads with duplicates by email, the error report, the lead counters, and a
1,000-row file written in chunks. Redelivered events and killed workers are covered by
test_import_exactly_once.py."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from leads_shared.csv_format import IMPORT_COLUMNS
from leads_shared.data import get_lead_store
from leads_shared.data.dynamo import meter
from leads_shared.data.lead_store import stored_items
from leads_shared.import_worker import CHUNK_ROWS
from tests.support.clients import Caller, lead_body
from tests.support.csv_files import ImportPath, csv_bytes

BOM = b"\xef\xbb\xbf"
MAX_BYTES = 50 * 1024 * 1024
DIRECT_MAX_BYTES = 4 * 1024 * 1024
JOB_KEYS = {
    "import_id", "status", "dry_run", "mode", "filename", "total_rows", "created", "updated",
    "skipped", "failed", "errors", "unknown_columns", "error_report_url", "failure_reason",
    "created_at", "started_at", "finished_at",
}  # fmt: skip
UPLOAD_KEYS = {"url", "fields", "expires_at", "max_bytes"}
REPORT_COLUMNS = ["row", "line", "outcome", "field", "message", *IMPORT_COLUMNS]


# ------------------------------------------------------------------ helpers
@pytest.fixture(scope="module")
def import_path(emulator) -> ImportPath:
    return ImportPath(emulator)


@pytest.fixture
def path(import_path: ImportPath) -> ImportPath:
    """The upload path with an empty queue: the queue is shared by the whole session."""
    import_path.purge()
    return import_path


def start(caller: Caller, **options: Any) -> dict[str, Any]:
    response = caller.post("/leads/import", options or None)
    assert response.status_code == 201, response.json
    return response.json


def job_of(caller: Caller, import_id: str) -> dict[str, Any]:
    response = caller.get(f"/leads/imports/{import_id}")
    assert response.status_code == 200, response.json
    return response.json


def run_import(caller: Caller, path: ImportPath, content: bytes, **options: Any) -> dict[str, Any]:
    """Start a job, upload ``content`` with its presigned form, deliver the S3 event: the job."""
    started = start(caller, **options)
    assert path.upload(started, content).status_code in (200, 201, 204)
    assert path.drain() == 1  # exactly the one upload event
    return job_of(caller, started["import_id"])


def multipart(file: tuple[str, bytes] | None = None, **fields: str) -> tuple[bytes, dict[str, str]]:
    """A ``multipart/form-data`` body as ``curl -F file=@leads.csv -F mode=...`` sends it."""
    boundary = f"----curl{uuid.uuid4().hex}"
    parts = [
        f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode()
        for name, value in fields.items()
    ]
    if file is not None:
        filename, content = file
        disposition = f'Content-Disposition: form-data; name="file"; filename="{filename}"'
        parts.append(f"{disposition}\r\nContent-Type: text/csv\r\n\r\n".encode() + content)
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    body += f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def post_form(caller: Caller, file: tuple[str, bytes] | None = None, **fields: str):
    body, headers = multipart(file, **fields)
    return caller.request("POST", "/leads/import", data=body, headers=headers)


def all_leads(caller: Caller, **query: Any) -> list[dict[str, Any]]:
    body = caller.get("/leads", query={"per_page": 100, **query}).json
    assert body["total"] <= 100, "helper reads one page only"
    return body["data"]


def total(caller: Caller, **query: Any) -> int:
    return caller.get("/leads", query=query).json["total"]


def lead_by_email(caller: Caller, email: str) -> dict[str, Any]:
    (found,) = [lead for lead in all_leads(caller) if (lead["email"] or "").lower() == email.lower()]
    return found


def report_rows(job: dict[str, Any]) -> list[dict[str, str]]:
    """The error report, downloaded from its presigned URL (the emulator is a real server)."""
    assert job["error_report_url"]
    response = requests.get(job["error_report_url"], timeout=10)
    assert response.status_code == 200
    assert response.content.startswith(BOM)
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline=""))
    assert reader.fieldnames == REPORT_COLUMNS
    return list(reader)


def row(first: str = "Ada", last: str = "Lovelace", email: str | None = None, **fields: Any) -> dict:
    return {"first_name": first, "last_name": last, "email": email, **fields}


def counts(job: dict[str, Any]) -> dict[str, int]:
    return {name: job[name] for name in ("total_rows", "created", "updated", "skipped", "failed")}


# ------------------------------------------------------------------ starting a job
def test_start_answers_201_with_the_job_and_a_presigned_upload(alice, tenant):
    response = alice.post("/leads/import", {"filename": "q3.csv", "mode": "update", "dry_run": True})
    assert response.status_code == 201
    started = response.json
    assert set(started) == JOB_KEYS | {"upload"}
    assert started["status"] == "pending_upload"
    assert (started["filename"], started["mode"], started["dry_run"]) == ("q3.csv", "update", True)
    assert re.fullmatch(r"[0-9a-f]{32}", started["import_id"])
    assert [started[k] for k in ("total_rows", "created", "updated", "skipped", "failed")] == [0] * 5
    assert started["errors"] == [] and started["error_report_url"] is None

    upload = started["upload"]
    assert set(upload) == UPLOAD_KEYS
    assert upload["max_bytes"] == MAX_BYTES == 52428800
    assert upload["url"].startswith("http")
    # A key of the caller's tenant's import prefix, for this job only.
    assert upload["fields"]["key"] == f"imports/{tenant.tenant_id}/{started['import_id']}.csv"
    assert {"policy", "x-amz-signature", "x-amz-algorithm"} <= set(upload["fields"])
    expires = datetime.fromisoformat(upload["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=14) < expires <= timedelta(minutes=15)

    status = alice.get(f"/leads/imports/{started['import_id']}")
    assert status.status_code == 200
    assert set(status.json) == JOB_KEYS
    assert status.json == {k: v for k, v in started.items() if k != "upload"}


def test_start_with_no_body_takes_the_defaults(alice):
    started = start(alice)
    assert (started["mode"], started["dry_run"], started["filename"]) == ("skip", False, None)
    assert alice.post("/leads/import", {}).json["mode"] == "skip"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"mode": "replace"}, "mode"), ({"dry_run": "maybe"}, "dry_run"), ({"filename": "x" * 256}, "filename")],
)
def test_invalid_job_options_are_422(alice, body, field):
    response = alice.post("/leads/import", body)
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]
    assert response.json["message"] == response.json["errors"][field][0]


@pytest.mark.parametrize(
    ("data", "status"), [("{bad json", 400), ('{"mode": ', 400), ("[]", 422), ('"skip"', 422)]
)
def test_malformed_json_bodies_are_4xx_in_the_envelope(alice, data, status):
    """Not JSON at all: 400, as everywhere in the API; JSON that is not an object: 422."""
    response = alice.request("POST", "/leads/import", data=data, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert isinstance(response.json["message"], str) and response.json["message"]
    assert set(response.json) <= {"message", "errors"}


def test_import_routes_need_a_token(tenant, alice):
    anonymous = tenant.anonymous()
    import_id = start(alice)["import_id"]
    answers = [
        anonymous.post("/leads/import", {"mode": "skip"}),
        anonymous.post("/leads/import"),
        post_form(anonymous, ("leads.csv", csv_bytes([row()]))),
        anonymous.get(f"/leads/imports/{import_id}"),
    ]
    for response in answers:
        assert response.status_code == 401
        assert response.json == {"message": "Unauthenticated."}


def test_another_tenants_import_and_malformed_ids_are_404(alice, other_tenant):
    import_id = start(alice)["import_id"]
    stranger = other_tenant.as_user(1)
    response = stranger.get(f"/leads/imports/{import_id}")
    assert response.status_code == 404
    assert set(response.json) == {"message"}
    for bad in ("not-an-id", "g" * 32, import_id[:-1], uuid.uuid4().hex):
        assert alice.get(f"/leads/imports/{bad}").status_code == 404, bad
    assert alice.get(f"/leads/imports/{import_id}").status_code == 200


# ------------------------------------------------------------------ multipart posted to the API
def test_a_file_posted_as_a_form_is_queued_then_imported(alice, path):
    content = 'first_name,last_name,email,company\r\nJürgen,Müller,jm@example.com,"Café, Bäckerei"\r\n'
    response = post_form(alice, ("leads.csv", content.encode("cp1252")), mode="update", dry_run="false")
    assert response.status_code == 202
    job = response.json
    assert set(job) == JOB_KEYS | {"upload"}
    assert job["status"] == "queued" and job["upload"] is None
    assert (job["mode"], job["dry_run"], job["filename"]) == ("update", False, "leads.csv")
    assert job_of(alice, job["import_id"])["status"] == "queued"

    assert path.drain() == 1
    done = job_of(alice, job["import_id"])
    assert done["status"] == "completed"
    assert (done["total_rows"], done["created"], done["failed"]) == (1, 1, 0)
    (lead,) = all_leads(alice)
    # The binary body went through the gateway base64-encoded and came out byte for byte.
    assert (lead["first_name"], lead["last_name"], lead["company"]) == ("Jürgen", "Müller", "Café, Bäckerei")


def test_a_form_dry_run_field_is_honoured(alice, path):
    response = post_form(alice, ("leads.csv", csv_bytes([row(email="a@example.com")])), dry_run="true")
    assert response.status_code == 202 and response.json["dry_run"] is True
    assert path.drain() == 1
    assert job_of(alice, response.json["import_id"])["created"] == 1
    assert total(alice) == 0


def test_a_form_without_a_file_is_422(alice, path):
    response = post_form(alice, None, mode="skip")
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["file"]
    wrong_name = post_form(alice, None, upload="x")
    assert wrong_name.status_code == 422 and "file" in wrong_name.json["errors"]
    garbage = alice.request(
        "POST", "/leads/import", data=b"not a form", headers={"Content-Type": "multipart/form-data"}
    )
    assert garbage.status_code == 422 and "file" in garbage.json["errors"]
    assert path.drain() == 0  # nothing was put to S3


def test_a_form_with_a_bad_mode_is_422(alice, path):
    response = post_form(alice, ("leads.csv", csv_bytes([row()])), mode="merge")
    assert response.status_code == 422 and list(response.json["errors"]) == ["mode"]
    assert path.drain() == 0


def test_a_posted_file_may_be_4_mib_and_no_more(alice, path):
    header = b"first_name,last_name\r\n"
    blank_line = b" " * 100_000 + b"\r\n"  # blank rows: skipped (each under csv's 128 KiB field limit)
    lines = (DIRECT_MAX_BYTES - len(header)) // len(blank_line)
    rest = DIRECT_MAX_BYTES - len(header) - lines * len(blank_line)
    content = header + blank_line * lines + b" " * (rest - 2) + b"\r\n"
    assert len(content) == DIRECT_MAX_BYTES

    too_big = post_form(alice, ("big.csv", content + b" "))
    assert too_big.status_code == 413
    assert too_big.json == {"message": f"The request body must not be larger than {DIRECT_MAX_BYTES} bytes."}
    assert path.drain() == 0

    accepted = post_form(alice, ("big.csv", content))
    assert accepted.status_code == 202
    assert path.drain() == 1
    job = job_of(alice, accepted.json["import_id"])
    assert (job["status"], job["total_rows"]) == ("completed", 0), job["failure_reason"]


# ------------------------------------------------------------------ parsing
UMLAUTS = [row("Jürgen", "Müller", "jm@example.com", company="Café Zoë"),
         row("Renée", "Ñúñez", "rn@example.com", company="Crème brûlée €")]  # fmt: skip


@pytest.mark.parametrize(
    ("bom", "encoding"), [(True, "utf-8"), (False, "utf-8"), (False, "cp1252")], ids=["bom", "utf8", "cp1252"]
)
def test_spreadsheet_encodings(alice, path, bom, encoding):
    content = csv_bytes(UMLAUTS, bom=bom, encoding=encoding)
    assert content.startswith(BOM) is bom
    job = run_import(alice, path, content)
    assert (job["status"], job["created"], job["failed"]) == ("completed", 2, 0)
    assert job["unknown_columns"] == []  # the BOM is not part of the first header name
    stored = {(lead["first_name"], lead["last_name"], lead["company"]) for lead in all_leads(alice)}
    assert stored == {(r["first_name"], r["last_name"], r["company"]) for r in UMLAUTS}


def test_excel_unicode_text_utf16_tab_delimited(alice, path):
    """What Excel's "Save as Unicode Text" writes: UTF-16 LE with its BOM, tab-delimited."""
    text = csv_bytes(UMLAUTS, delimiter="\t").decode("utf-8")
    job = run_import(alice, path, codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert (job["status"], job["created"], job["failed"], job["failure_reason"]) == ("completed", 2, 0, None)
    stored = {(lead["first_name"], lead["last_name"], lead["company"]) for lead in all_leads(alice)}
    assert stored == {(r["first_name"], r["last_name"], r["company"]) for r in UMLAUTS}


def test_a_cell_of_200_kb_fails_its_row_not_the_file(alice, path):
    rows = [row(email="long@example.com", notes="n" * 200_000), row("Bo", "Li", "b@example.com")]
    job = run_import(alice, path, csv_bytes(rows))
    assert (job["status"], job["failure_reason"]) == ("completed", None)
    assert (job["total_rows"], job["created"], job["failed"]) == (2, 1, 1)
    assert [(e["row"], e["line"], e["field"]) for e in job["errors"]] == [(2, 2, "notes")]
    assert job["errors"][0]["message"] == "The notes field must not be greater than 10000 characters."
    assert [lead["email"] for lead in all_leads(alice)] == ["b@example.com"]


def test_semicolon_delimited_files(alice, path):
    rows = [row(email="a@example.com", company="Acme, Inc", tags="a,b"), row("Bo", "Li", "b@example.com")]
    job = run_import(alice, path, csv_bytes(rows, delimiter=";", bom=True))
    assert (job["status"], job["created"]) == ("completed", 2)
    ada = lead_by_email(alice, "a@example.com")
    assert (ada["last_name"], ada["company"], ada["tags"]) == ("Lovelace", "Acme, Inc", "a,b")


def test_quoted_fields_and_row_and_line_numbers(alice, path):
    rows = [
        row(email="one@example.com", notes="first line\nsecond, with a comma\nthird"),  # row 2, lines 2-4
        row("Bad", "Email", "not-an-email"),  # row 3, line 5
        row(email="two@example.com", company='He said "hi", twice', notes="a\r\nb"),  # row 4, lines 6-7
        row("", "Nameless", "x@example.com", notes="spans\ntwo"),  # row 5, lines 8-9
        row("Last", "Row", "last@example.com"),  # row 6, line 10
    ]
    content = csv_bytes(rows, ["first_name", "last_name", "email", "company", "notes"])
    job = run_import(alice, path, content)
    assert (job["created"], job["failed"], job["total_rows"]) == (3, 2, 5)
    # row: as a spreadsheet numbers it (a record is one row); line: where it starts in the file.
    assert [(e["row"], e["line"], e["field"]) for e in job["errors"]] == [
        (3, 5, "email"),
        (5, 8, "first_name"),
    ]
    report = report_rows(job)
    assert [(r["row"], r["line"], r["field"]) for r in report] == [
        ("3", "5", "email"),
        ("5", "8", "first_name"),
    ]
    assert lead_by_email(alice, "one@example.com")["notes"] == "first line\nsecond, with a comma\nthird"
    two = lead_by_email(alice, "two@example.com")
    assert (two["company"], two["notes"]) == ('He said "hi", twice', "a\r\nb")
    assert lead_by_email(alice, "last@example.com")["last_name"] == "Row"


def test_headers_are_matched_loosely_and_unknown_ones_reported_once(alice, path):
    header = ["First Name", "LAST_NAME", "e-mail", " Job-Title ", "ASSIGNED TO", "Favourite Colour",
              "Budget", "Favourite Colour", "id", "created_at"]  # fmt: skip
    lines = [header, ["Ada", "Lovelace", "ada@example.com", "CTO", "2", "blue", "10k", "red", "77", "x"]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(lines)
    job = run_import(alice, path, out.getvalue().encode())
    assert (job["status"], job["created"]) == ("completed", 1)
    # Reported once each, as written; the export's own extra columns (id, created_at...) are not unknown.
    assert job["unknown_columns"] == ["Favourite Colour", "Budget"]
    lead = lead_by_email(alice, "ada@example.com")
    assert (lead["first_name"], lead["last_name"], lead["job_title"]) == ("Ada", "Lovelace", "CTO")
    assert (lead["assigned_to"], lead["assigned_to_name"]) == (2, "Bob Baker")
    assert lead["id"] == 1  # the file's id column does not choose the id


@pytest.mark.parametrize(
    "content", [b"first_name,last_name,email\r\n", BOM + b"first_name;last_name\r\n\r\n  \r\n", b"\r\n\r\n"],
    ids=["header-only", "bom-header-blank-rows", "blank-lines"],
)  # fmt: skip
def test_files_without_rows_complete_with_nothing(alice, path, content):
    job = run_import(alice, path, content)
    assert job["status"] == "completed" and job["failure_reason"] is None
    assert [job[k] for k in ("total_rows", "created", "updated", "skipped", "failed")] == [0] * 5
    assert job["finished_at"] and total(alice) == 0


def test_an_empty_file_completes_with_nothing(alice, path):
    # S3 refuses an empty presigned upload (content-length-range starts at 1): post it as a form.
    response = post_form(alice, ("empty.csv", b""))
    assert response.status_code == 202
    assert path.drain() == 1
    job = job_of(alice, response.json["import_id"])
    assert (job["status"], job["total_rows"], job["created"]) == ("completed", 0, 0)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("email,last_name", "first_name"),
        ("First Name,email", "last_name"),
        ("email,phone", "first_name"),
        ("first_name,last_name,First Name", "more than one first_name"),
    ],
)
def test_files_missing_a_name_column_fail_with_the_reason(alice, path, header, reason):
    job = run_import(alice, path, f"{header}\r\nx@example.com,Doe,Jane\r\n".encode())
    assert job["status"] == "failed"
    assert reason in job["failure_reason"]
    assert job["finished_at"] and job["created"] == 0
    assert total(alice) == 0


def test_a_failed_import_publishes_the_metric_its_alarm_watches(alice, path, capsys):
    """ImportFailed (namespace Leads, dimension service) is what ImportFailuresAlarm reads."""
    capsys.readouterr()
    job = run_import(alice, path, b"email,phone\r\nx@example.com,1\r\n")
    assert job["status"] == "failed"
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    failed = [doc for doc in emitted if "ImportFailed" in doc]
    assert len(failed) == 1 and failed[0]["ImportFailed"] == [1.0] and failed[0]["service"] == "leads"
    assert failed[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]


def test_at_most_50_columns(alice, path):
    extra = [f"extra{n}" for n in range(48)]
    fifty = csv_bytes([row(**dict.fromkeys(extra, "v"))], ["first_name", "last_name", *extra])
    job = run_import(alice, path, fifty)
    assert (job["status"], job["created"]) == ("completed", 1)
    assert job["unknown_columns"] == extra

    fifty_one = ["first_name", "last_name", *extra, "one_more"]
    job = run_import(alice, path, csv_bytes([row(**dict.fromkeys(extra, "v"))], fifty_one))
    assert job["status"] == "failed"
    assert "51" in job["failure_reason"] and "50" in job["failure_reason"]
    assert total(alice) == 1


def test_at_most_100000_rows_and_nothing_written_past_the_limit(alice, path):
    rows = [row(f"L{n}", "Many", f"l{n}@example.com") for n in range(100_001)]
    started = start(alice)
    assert path.upload(started, csv_bytes(rows)).status_code in (200, 201, 204)
    meter.reset()
    assert path.drain() == 1
    assert "TransactWriteItems" not in meter.snapshot()["by_operation"]  # no lead written
    job = job_of(alice, started["import_id"])
    assert job["status"] == "failed" and "100,000" in job["failure_reason"]
    assert job["created"] == 0 and total(alice) == 0


# ------------------------------------------------------------------ rows
BAD_ROWS = [
    row("Bad", "Email", "not-an-email"),
    row("No", "", "nolast@example.com"),
    row("Bad", "Status", "status@example.com", status="won"),
    row("Stranger", "Owner", "owner@example.com", assigned_to="99"),
    row("Word", "Owner", "word@example.com", assigned_to="bob"),
    row("Long", "Phone", "phone@example.com", phone="1" * 51),
]
COLUMNS = ["first_name", "last_name", "email", "phone", "status", "assigned_to"]


def test_rows_are_validated_like_post_leads(alice, path):
    good = [row("Good", "One", "good1@example.com", status="contacted", assigned_to="2"),
            row("Good", "Two", "good2@example.com")]  # fmt: skip
    rows = [good[0], *BAD_ROWS, good[1]]
    job = run_import(alice, path, csv_bytes(rows, COLUMNS))
    assert job["status"] == "completed"
    assert (job["total_rows"], job["created"], job["failed"], job["skipped"]) == (8, 2, 6, 0)

    # Each bad row is reported on its line with exactly the errors POST /leads gives that body.
    reported: dict[int, dict[str, list[str]]] = {}
    for error in job["errors"]:
        reported.setdefault(error["row"], {}).setdefault(error["field"], []).append(error["message"])
    expected = {}
    for line, bad in enumerate(BAD_ROWS, start=3):
        answer = alice.post("/leads", {k: v for k, v in bad.items() if v not in (None, "")})
        assert answer.status_code == 422
        expected[line] = answer.json["errors"]
    assert reported == expected
    assert set(reported[6]) == {"assigned_to"} and set(reported[5]) == {"status"}

    leads = all_leads(alice)
    assert sorted(lead["email"] for lead in leads) == ["good1@example.com", "good2@example.com"]
    one = lead_by_email(alice, "good1@example.com")
    assert (one["status"], one["assigned_to"], one["assigned_to_name"]) == ("contacted", 2, "Bob Baker")


def test_duplicates_are_skipped_by_default(alice, other_tenant, path):
    existing = alice.post("/leads", lead_body(email="Dup@Example.com", company="Original")).json
    other_tenant.as_user(1).post("/leads", lead_body(email="new@example.com"))  # not this tenant's
    rows = [
        row("Same", "Lead", "dup@example.com", company="Changed"),  # line 2: the existing lead's
        row("New", "Lead", "new@example.com"),  # line 3
        row("New", "Again", "NEW@example.COM"),  # line 4: the same as line 3
        row("No", "Email"),  # line 5: no email, never a duplicate
        row("No", "Email"),  # line 6
    ]
    job = run_import(alice, path, csv_bytes(rows, ["first_name", "last_name", "email", "company"]))
    assert job["mode"] == "skip"
    assert counts(job) == {"total_rows": 5, "created": 3, "updated": 0, "skipped": 2, "failed": 0}
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(2, "email"), (4, "email")]
    assert all("Duplicate email" in e["message"] for e in job["errors"])
    assert job["errors"][1]["message"] == "Duplicate email: the same as row 3."
    assert alice.get(f"/leads/{existing['id']}").json["company"] == "Original"
    assert total(alice) == 4
    assert sorted(lead["first_name"] for lead in all_leads(alice)) == ["John", "New", "No", "No"]


def test_update_mode_updates_the_existing_lead(alice, path):
    existing = alice.post(
        "/leads", lead_body(email="Dup@Example.com", company="Old Co", phone="+1 555 0100", status="new")
    ).json
    rows = [
        row("Johnny", "Doe", "DUP@example.com", company="New Co", status="contacted", assigned_to="3"),
        row("Second", "Time", "dup@EXAMPLE.com", company="Ignored"),  # a duplicate within the file
        row("Fresh", "Lead", "fresh@example.com"),
    ]
    job = run_import(alice, path, csv_bytes(rows, ["first_name", "last_name", "email", "phone", "company",
                                                   "status", "assigned_to"]), mode="update")  # fmt: skip
    assert job["mode"] == "update"
    assert counts(job) == {"total_rows": 3, "created": 1, "updated": 1, "skipped": 1, "failed": 0}
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(3, "email")]

    lead = alice.get(f"/leads/{existing['id']}")
    assert lead.headers["ETag"] == '"2"'
    updated = lead.json
    assert (updated["first_name"], updated["company"], updated["status"]) == ("Johnny", "New Co", "contacted")
    assert (updated["assigned_to"], updated["assigned_to_name"]) == (3, "Carol Chen")
    assert updated["phone"] == "+1 555 0100"  # a blank cell leaves the field as it was
    assert updated["updated_at"] > existing["updated_at"]
    assert updated["created_at"] == existing["created_at"]
    # The counters follow the update: no new lead, one moved from new to contacted.
    assert total(alice) == 2
    assert (total(alice, status="new"), total(alice, status="contacted")) == (1, 1)
    assert total(alice, assigned_to=3) == 1


def test_dry_run_reports_and_writes_nothing(alice, path):
    existing = alice.post("/leads", lead_body(email="dup@example.com", company="Kept")).json
    rows = [
        row(email="a@example.com"),
        row("Bo", "Li", "b@example.com", status="qualified"),
        row("Bad", "", "c@example.com"),
        row("Dup", "Row", "DUP@example.com", company="Changed"),
        row("Twice", "A", "A@EXAMPLE.COM"),
    ]
    columns = ["first_name", "last_name", "email", "status", "company"]
    job = run_import(alice, path, csv_bytes(rows, columns), dry_run=True)
    assert job["dry_run"] is True and job["status"] == "completed"
    assert (job["total_rows"], job["created"], job["skipped"], job["failed"]) == (5, 2, 2, 1)
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(4, "last_name"), (5, "email"), (6, "email")]
    assert len(report_rows(job)) == 3

    job = run_import(alice, path, csv_bytes(rows, columns), dry_run=True, mode="update")
    assert (job["created"], job["updated"], job["skipped"], job["failed"]) == (2, 1, 1, 1)

    assert total(alice) == 1 and total(alice, status="qualified") == 0
    assert [lead["id"] for lead in all_leads(alice)] == [existing["id"]]
    assert alice.get(f"/leads/{existing['id']}").json["company"] == "Kept"
    assert alice.get(f"/leads/{existing['id']}").headers["ETag"] == '"1"'


# ------------------------------------------------------------------ the error report
def test_the_error_report_lists_every_rejected_row_with_its_values(alice, path):
    alice.post("/leads", lead_body(email="taken@example.com"))
    rows = [
        row("Ok", "Row", "ok@example.com"),  # 2
        row("=cmd", "", "bad@", notes="multi\nline"),  # 3-4: two errors
        row("Taken", "Row", "taken@example.com", company="Acme, Inc"),  # 5: skipped
        row("Bad", "Status", "s@example.com", status="open"),  # 6
    ]
    job = run_import(alice, path, csv_bytes(rows, ["first_name", "last_name", "email", "company", "status",
                                                   "notes"]))  # fmt: skip
    assert (job["created"], job["failed"], job["skipped"]) == (1, 2, 1)
    report = report_rows(job)
    assert [(r["line"], r["outcome"], r["field"]) for r in report] == [
        ("3", "failed", "last_name"),
        ("3", "failed", "email"),
        ("5", "skipped", "email"),
        ("6", "failed", "status"),
    ]
    by_line = {(r["line"], r["field"]): r for r in report}
    assert by_line[("3", "email")]["message"] == "The email field must be a valid email address."
    assert by_line[("3", "last_name")]["message"] == "The last name field is required."
    # The row's values as the file had them (a formula-like cell escaped against injection).
    assert by_line[("3", "email")]["first_name"] == "'=cmd"
    assert by_line[("3", "email")]["notes"] == "multi\nline"
    assert by_line[("3", "email")]["email"] == "bad@"
    assert by_line[("5", "email")]["company"] == "Acme, Inc"
    assert "Duplicate email" in by_line[("5", "email")]["message"]
    assert by_line[("6", "status")]["status"] == "open"
    assert [r["row"] for r in report] == ["3", "3", "4", "5"]  # the multi-line record is one row
    assert {(str(e["row"]), str(e["line"]), e["field"], e["message"]) for e in job["errors"]} == {
        (r["row"], r["line"], r["field"], r["message"]) for r in report
    }
    download = requests.get(job["error_report_url"], timeout=10)
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_a_clean_import_has_no_error_report(alice, path):
    job = run_import(alice, path, csv_bytes([row(email="a@example.com")]))
    assert job["created"] == 1 and job["errors"] == [] and job["error_report_url"] is None


def test_the_job_keeps_the_first_100_errors_and_the_report_has_them_all(alice, path):
    rows = [row(f"Bad{n}", "Row", f"bad{n}@") for n in range(150)] + [row(email="good@example.com")]
    job = run_import(alice, path, csv_bytes(rows))
    assert (job["total_rows"], job["failed"], job["created"]) == (151, 150, 1)
    assert len(job["errors"]) == 100
    assert [e["row"] for e in job["errors"]] == list(range(2, 102))
    report = report_rows(job)
    assert [int(r["line"]) for r in report] == list(range(2, 152))
    assert {r["outcome"] for r in report} == {"failed"}
    assert [r["first_name"] for r in report] == [f"Bad{n}" for n in range(150)]


# ------------------------------------------------------------------ counters
def test_list_totals_include_the_imported_leads_exactly(alice, path):
    alice.post("/leads", lead_body(email="before1@example.com", status="contacted", assigned_to=2))
    alice.post("/leads", lead_body(email="before2@example.com"))
    statuses = ["new", "contacted", "qualified", "disqualified", "new", "new", "contacted"]
    rows = [
        row(f"L{n}", "Imp", f"l{n}@example.com", status=status, assigned_to=str(n % 3 + 1) if n % 2 else "")
        for n, status in enumerate(statuses)
    ]
    rows.append(row("Bad", "Row", "bad@", status="new"))
    job = run_import(alice, path, csv_bytes(rows))
    assert (job["created"], job["failed"]) == (7, 1)

    leads = all_leads(alice)
    assert total(alice) == len(leads) == 9
    for status in ("new", "contacted", "qualified", "disqualified"):
        assert total(alice, status=status) == sum(lead["status"] == status for lead in leads), status
    for user in (1, 2, 3):
        assert total(alice, assigned_to=user) == sum(lead["assigned_to"] == user for lead in leads), user
    assert total(alice, status="new") == 4 and total(alice, status="contacted") == 3


# ------------------------------------------------------------------ the template
def test_the_template_is_the_header_row_for_admins(alice, bob, path):
    response = alice.get("/leads/template")
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="leads_template.csv"'
    assert response.data == BOM + (
        b"first_name,last_name,email,phone,company,job_title,source,status,notes,tags,assigned_to\r\n"
    )
    denied = bob.get("/leads/template")
    assert denied.status_code == 403 and set(denied.json) == {"message"}
    # The template is a valid, empty import.
    job = run_import(alice, path, response.data)
    assert (job["status"], job["total_rows"], job["unknown_columns"]) == ("completed", 0, [])


# ------------------------------------------------------------------ known bugs
def test_update_mode_cannot_reopen_a_qualified_lead(alice, path):
    lead = alice.post("/leads", lead_body(email="won@example.com")).json
    assert alice.post(f"/leads/{lead['id']}/qualify").status_code == 200
    reopen = row("John", "Doe", "won@example.com", status="new")
    assert alice.put(f"/leads/{lead['id']}", reopen).status_code == 409
    job = run_import(alice, path, csv_bytes([reopen]), mode="update")
    after = alice.get(f"/leads/{lead['id']}").json
    assert (after["status"], after["contact_id"]) == ("qualified", 1)
    assert job["updated"] == 0 and job["failed"] + job["skipped"] == 1
    assert [e["row"] for e in job["errors"]] == [2]


def test_update_mode_changes_status_like_put(alice, path):
    lost = alice.post("/leads", lead_body(email="lost@example.com")).json
    alice.put(f"/leads/{lost['id']}/disqualify", {"reason": "No budget."})
    fresh = alice.post("/leads", lead_body(email="fresh@example.com")).json
    rows = [row("John", "Doe", "lost@example.com", status="new"),
            row("John", "Doe", "fresh@example.com", status="disqualified")]  # fmt: skip
    job = run_import(alice, path, csv_bytes(rows), mode="update")
    assert job["updated"] == 2
    reopened = alice.get(f"/leads/{lost['id']}").json
    assert reopened["status"] == "new"
    assert (reopened["disqualified_reason"], reopened["disqualified_at"]) == (None, None)
    closed = alice.get(f"/leads/{fresh['id']}").json
    assert closed["status"] == "disqualified" and closed["disqualified_at"] is not None


def test_a_windows_1252_file_with_its_first_accent_after_the_first_mebibyte(alice, path):
    rows = [row(f"Lead{n}", "Ascii", f"l{n}@example.com", notes="x" * 4000) for n in range(330)]
    rows.append(row("Renée", "Müller", "rm@example.com", notes="Café"))
    content = csv_bytes(rows, encoding="cp1252")
    assert content.index("é".encode("cp1252")) > 1024 * 1024 + 64 * 1024
    job = run_import(alice, path, content)
    assert (job["status"], job["failure_reason"], job["created"]) == ("completed", None, 331)
    (found,) = alice.get("/leads", query={"search": "rm@example.com"}).json["data"]
    assert (found["first_name"], found["last_name"], found["notes"]) == ("Renée", "Müller", "Café")


# ------------------------------------------------------------------ volume (last: it is the slow one)
BULK = 1_000


@pytest.fixture
def bulk_admin(tenant, alice):
    """The admin of a fresh tenant, whose leads (ids 1..BULK) are deleted afterwards with their
    index entries: later tests that scan the table would read them."""
    yield alice
    store = get_lead_store()
    leads = store.get_many(tenant.tenant_id, range(1, BULK + 1)).values()
    items = [item for lead in leads for item in stored_items(lead)]
    store.batch_delete([{"PK": item["PK"], "SK": item["SK"]} for item in items])


def test_a_thousand_rows_are_imported_in_chunks(bulk_admin, path):
    count = BULK
    statuses = ["new", "contacted", "qualified", "disqualified"]
    rows = [row(f"Lead{n}", "Bulk", f"lead{n}@example.com", status=statuses[n % 4]) for n in range(count)]
    started = start(bulk_admin)
    assert path.upload(started, csv_bytes(rows)).status_code in (200, 201, 204)
    meter.reset()
    assert path.drain() == 1
    cost = meter.snapshot()["by_operation"]
    job = job_of(bulk_admin, started["import_id"])
    assert job["status"] == "completed"
    assert (job["total_rows"], job["created"], job["failed"], job["skipped"]) == (count, count, 0, 0)
    assert total(bulk_admin) == count
    assert all(total(bulk_admin, status=s) == count // 4 for s in statuses)
    # Leads go in with their index entries, history and counts, CHUNK_ROWS (3) a transaction:
    # 334 requests, not 1,000 PutItem and 15,000 entries' writes.
    assert cost.get("TransactWriteItems") == -(-count // CHUNK_ROWS)
    assert cost.get("PutItem", 0) == 0
    assert sum(cost.values()) < -(-count // CHUNK_ROWS) + 20  # the chunks, and a few reads and updates
    last = bulk_admin.get("/leads", query={"sort_by": "created_at", "sort_dir": "DESC", "per_page": 1}).json
    assert last["data"][0]["id"] == count
