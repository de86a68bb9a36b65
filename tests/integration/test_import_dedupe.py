"""The import's dedupe against the tenant reads what the file needs, never the tenant's leads: each
email of the file is looked up in the LOOKUP index, so a 100-row file costs the same in a tenant
of 2,000 leads as in one of 20,000, and a file big for its tenant still makes a lookup per email
(``leads_shared.import_duplicates``)."""

from __future__ import annotations

from typing import Any

import pytest

from leads_shared.data.dynamo import meter
from leads_shared.import_worker import CHUNK_ROWS
from leads_shared.models.leads import Lead
from tests.support.bulk_leads import bulk_leads, stored_before_entries
from tests.support.clients import Caller, Tenant, make_tenant
from tests.support.csv_files import ImportPath, csv_bytes

ROWS = 100


@pytest.fixture(scope="module")
def import_path(emulator) -> ImportPath:
    path = ImportPath(emulator)
    path.purge()
    return path


def import_measured(caller: Caller, path: ImportPath, rows: list[dict[str, Any]], **options: Any):
    """Import ``rows``; the job, and what the worker's run cost (the upload event's delivery)."""
    started = caller.post("/leads/import", options or None).json
    assert path.upload(started, csv_bytes(rows, ["first_name", "last_name", "email"])).status_code < 300
    meter.reset()
    assert path.drain() == 1
    cost = meter.snapshot()
    return caller.get(f"/leads/imports/{started['import_id']}").json, cost


def file_rows(existing: list[Lead]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Half the rows repeat an email of the tenant's first 2,000 leads (another case), half are
    new; the existing lead each repeated email names."""
    emails = {lead.email.lower(): lead.id for lead in existing[:2000] if lead.email}
    repeated = list(emails)[: ROWS // 2]
    rows = [{"first_name": "Dup", "last_name": str(n), "email": e.upper()} for n, e in enumerate(repeated)]
    rows += [{"first_name": "New", "last_name": str(n), "email": f"n{n}@fresh.io"} for n in range(ROWS // 2)]
    return rows, {email: emails[email] for email in repeated}


def test_a_100_row_import_reads_the_same_in_2000_and_20000_leads(gateway, import_path):
    costs = {}
    for count in (2_000, 20_000):
        tenant: Tenant = make_tenant(gateway)
        # The lead items alone: the dedupe reads their LOOKUP keys, never the index entries
        # (leads as a stack before the entries stored them; 15 times fewer items to seed).
        existing = bulk_leads(tenant.tenant_id, count, stored_as=stored_before_entries)
        rows, named = file_rows(existing)
        job, cost = import_measured(tenant.as_user(1), import_path, rows)
        assert (job["status"], job["created"], job["skipped"]) == ("completed", ROWS // 2, ROWS // 2)
        for error in job["errors"]:
            email = rows[error["row"] - 2]["email"].lower()
            assert error["message"] == f"Duplicate email: lead {named[email]} has it."
        costs[count] = cost
    assert costs[2_000] == costs[20_000]
    operations = costs[20_000]["by_operation"]
    # One LOOKUP Query per row's email (each reads the lead that has it, or nothing), the job's
    # own requests, the tenant's counters and users, and a transaction per chunk of rows: not
    # 20,000 narrow rows.
    assert operations["Query"] == ROWS + 1  # the lookups and the users
    assert costs[20_000]["items_read"] == ROWS // 2 + 3 + 2  # duplicates, users, job and counters
    # + 2 GetItem, 4 UpdateItem, a TransactWriteItems per chunk
    assert costs[20_000]["requests"] == ROWS + 7 + -(-ROWS // CHUNK_ROWS)


def test_a_file_big_for_its_tenant_makes_a_lookup_per_email_and_reads_no_list(gateway, import_path):
    tenant = make_tenant(gateway)
    existing = bulk_leads(tenant.tenant_id, 200)
    rows, named = file_rows(existing)
    job, cost = import_measured(tenant.as_user(1), import_path, rows, mode="update")
    assert (job["status"], job["created"], job["updated"]) == ("completed", ROWS // 2, len(named))
    # One lookup per row's email (each reads the lead that has it, or nothing) and the users:
    # none of the tenant's 200 leads is read but the ones the file names.
    assert cost["by_operation"]["Query"] == ROWS + 1
    # the duplicates (by their lookups), each updated lead read to update it (GetItem), the
    # users, the job and the counters
    assert cost["items_read"] == len(named) + len(named) + 3 + 2
    some = next(iter(named.values()))
    assert tenant.as_user(1).get(f"/leads/{some}").json["first_name"] == "Dup"
