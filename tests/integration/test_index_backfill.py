"""The backfill of index entries: leads stored before the entries existed get theirs, once, in
runs that stop at their deadline and resume where they stopped; a lead written or deleted
meanwhile is left alone (``leads_shared.index_backfill``)."""

from __future__ import annotations

import json

from leads_shared.data import get_lead_store
from leads_shared.data.dynamo import meter
from leads_shared.index_backfill import PAGE_LEADS, backfill_tenant, main
from tests.support.bulk_leads import bulk_leads, stored_before_entries
from tests.support.clients import Tenant

COUNT = 250


def emails_listed(tenant: Tenant) -> list[int]:
    """Every lead by email, through the entries (what the backfill builds)."""
    caller, ids, cursor = tenant.as_user(1), [], None
    while True:
        query = {"sort_by": "email", "per_page": 100, **({"cursor": cursor} if cursor else {})}
        body = caller.get("/leads", query=query).json
        ids += [lead["id"] for lead in body["data"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids


def test_the_backfill_indexes_old_leads_once_resuming_where_it_stopped(tenant):
    leads = bulk_leads(tenant.tenant_id, COUNT, stored_as=stored_before_entries)
    admin = tenant.as_user(1)
    assert emails_listed(tenant) == []  # no entries: the new lists do not see them yet
    assert admin.get("/leads", query={"search": "lead1"}).json["total"] == 0

    # Meanwhile, one lead is edited (its write writes its entries) and one deleted.
    edited, deleted = leads[10], leads[20]
    response = admin.put(f"/leads/{edited.id}", {"first_name": "Edith", "last_name": edited.last_name})
    assert response.status_code == 200
    assert admin.delete(f"/leads/{deleted.id}").status_code == 200

    store = get_lead_store()
    calls = iter([1000.0, 0.0])  # time enough after the first page, not after the second
    first = backfill_tenant(store, tenant.tenant_id, time_left=lambda: next(calls))
    assert first.next_start is not None and first.read == 2 * PAGE_LEADS
    rest = backfill_tenant(store, tenant.tenant_id, first.next_start)
    assert rest.next_start is None
    assert first.read + rest.read == COUNT - 1  # the deleted lead is not listed any more
    assert first.written + rest.written == COUNT - 2  # nor the edited one: it has its entries

    alive = [lead for lead in leads if lead.id != deleted.id]
    by_email = sorted(alive, key=lambda lead: ((lead.email or "").casefold(), lead.id))
    assert emails_listed(tenant) == [lead.id for lead in by_email]
    searched = admin.get("/leads", query={"search": "edith"}).json
    assert [lead["id"] for lead in searched["data"]] == [edited.id]
    assert admin.get("/leads", query={"search": f"lead{leads[5].id}@"}).json["total"] == 1

    meter.reset()
    again = backfill_tenant(store, tenant.tenant_id)
    assert (again.written, again.skipped, again.read) == (0, COUNT - 1, COUNT - 1)
    assert meter.snapshot()["by_operation"].get("TransactWriteItems") is None  # reads only


def test_the_command_backfills_every_tenant_and_says_what_it_did(tenant, capsys):
    bulk_leads(tenant.tenant_id, 30, stored_as=stored_before_entries)
    table = get_lead_store().table
    main(["--table", table])
    said = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"tenant": tenant.tenant_id, "read": 30, "written": 30, "skipped": 0} in said
    main(["--table", table, "--tenant", tenant.tenant_id])
    assert json.loads(capsys.readouterr().out) == {
        "tenant": tenant.tenant_id,
        "read": 30,
        "written": 0,
        "skipped": 30,
    }
    assert tenant.as_user(1).get("/leads", query={"sort_by": "source"}).json["total"] == 30
