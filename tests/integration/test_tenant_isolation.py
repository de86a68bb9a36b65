"""Object-level authorisation and mass assignment.

- Every route that takes an id (lead, note, task, email, import, contact, company, deal), called by
  another tenant with the same ids, is a 404 that writes nothing; the owner's object is untouched.
- Ids in a body that belong to another tenant (a user to assign, a company or contact to link, a
  deal stage) are a 422.
- Bodies carrying ids, tenants, timestamps, versions or key attributes change none of them.
"""

from __future__ import annotations

import pytest

from leads_shared.data import get_directory_store, get_lead_store
from leads_shared.keys import LeadKeys
from leads_shared.models.directory import DealStage, User
from tests.integration.route_rows import HIDDEN, PUBLIC_FORM, ROWS, SCIM_ROWS, World, hidden_in
from tests.support.clients import Caller, lead_body

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
SEQUENCES = "SEQUENCES"  # the sort key of a tenant's id sequences (notes, tasks, ...)


def items_of(*tenant_ids: str) -> dict[tuple[str, str], dict]:
    """Every stored item under these tenants' keys (a Scan: tests only)."""
    store = get_lead_store()
    found = {}
    for tenant_id in tenant_ids:
        pages = store.client.get_paginator("scan").paginate(
            TableName=store.table,
            FilterExpression="begins_with(PK, :p)",
            ExpressionAttributeValues={":p": {"S": f"TENANT#{tenant_id}#"}},
        )
        prefix = {"S": f"TENANT#{tenant_id}"}
        tenant_rows = store.client.query(
            TableName=store.table, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": prefix}
        )["Items"]
        for item in [*tenant_rows, *(item for page in pages for item in page["Items"])]:
            found[(item["PK"]["S"], item["SK"]["S"])] = item
    return found


# (a public form's key names no tenant: anyone may post to it)
WITH_IDS = [route for route in ROWS if "{" in route[1] and route not in PUBLIC_FORM]
# SCIM's resources (the discovery ids are the same for every tenant)
SCIM_WITH_IDS = [route for route in SCIM_ROWS if route[1].startswith(("/scim/v2/Users/", "/scim/v2/Groups/"))]


@pytest.mark.parametrize(("method", "path"), WITH_IDS, ids=[f"{m} {p}" for m, p in WITH_IDS])
def test_another_tenants_ids_are_404_and_write_nothing(tenant, other_tenant, method, path):
    owner = World(tenant)
    call = ROWS[(method, path)](owner, owner.admin)
    stranger = World(other_tenant).admin  # an admin: roles cannot open another tenant

    before = items_of(tenant.tenant_id, other_tenant.tenant_id)
    response = call.send(stranger)
    assert response.status_code == 404, response.json
    assert set(response.json) == {"message"}
    after = items_of(tenant.tenant_id, other_tenant.tenant_id)
    # Nothing changed, but for the caller's own id sequence: a note or task is given its id
    # before the write that finds no lead (a gap in the caller's ids, as any failed create).
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert changed <= {(f"TENANT#{other_tenant.tenant_id}", SEQUENCES)}, changed

    # still the owner's, untouched: the same call succeeds for them (a delete, a qualify, ...)
    assert call.send(owner.admin).status_code == call.status


@pytest.mark.parametrize(("method", "path"), SCIM_WITH_IDS, ids=[f"{m} {p}" for m, p in SCIM_WITH_IDS])
def test_another_tenants_scim_token_finds_none_of_our_ids_and_writes_nothing(
    tenant, other_tenant, method, path
):
    owner = World(tenant)
    call = SCIM_ROWS[(method, path)](owner, owner.scim)
    stranger = Caller(tenant.gateway, other_tenant.tenant_id, 0, "scim", World(other_tenant).scim_token())

    before = items_of(tenant.tenant_id, other_tenant.tenant_id)
    response = call.send(stranger)
    assert response.status_code == 404, response.json
    assert response.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert items_of(tenant.tenant_id, other_tenant.tenant_id) == before

    # still the owner's, untouched: the same call succeeds for them
    assert call.send(owner.scim).status_code == call.status


@pytest.fixture
def foreign(tenant, other_tenant):
    """Things of another tenant whose ids a caller might put in a body: user 7, stage 70, and
    a contact and company made by qualifying one of its leads."""
    directory = get_directory_store()
    directory.put_user(
        User(tenant_id=other_tenant.tenant_id, id=7, name="Eve", email="eve@x.com", role="user", team_id=1)
    )
    directory.put_stage(DealStage(tenant_id=other_tenant.tenant_id, id=70, name="Won", position=1))
    theirs = World(other_tenant)
    return {"user": 7, "stage": 70, **theirs.records}


def test_a_user_of_another_tenant_cannot_be_assigned(tenant, foreign):
    world = World(tenant)
    admin = world.admin
    lead = world.lead()
    task = world.task(lead)
    for method, path, body in [
        ("POST", "/leads", lead_body(assigned_to=foreign["user"])),
        ("PUT", f"/leads/{lead}", lead_body(assigned_to=foreign["user"])),
        ("POST", f"/leads/{lead}/tasks", {"title": "Call", "assigned_to": foreign["user"]}),
        ("PUT", f"/leads/{lead}/tasks/{task}", {"title": "Call", "assigned_to": foreign["user"]}),
    ]:
        response = admin.request(method, path, json_body=body)
        assert response.status_code == 422, (method, path, response.json)
        assert "assigned_to" in response.json["errors"]
        assert not WRITES & set(admin.last_cost["by_operation"]), (method, path)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"company_id": "company_id"}, "company_id"),
        ({"contact_id": "contact_id"}, "contact_id"),
        ({"create_deal": True, "deal_stage_id": "stage"}, "deal_stage_id"),
    ],
)
def test_records_of_another_tenant_cannot_be_linked_on_qualify(tenant, foreign, body, field):
    world = World(tenant)
    lead = world.lead()
    sent = {name: foreign[value] if isinstance(value, str) else value for name, value in body.items()}
    response = world.admin.post(f"/leads/{lead}/qualify", sent)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert world.admin.get(f"/leads/{lead}").json["status"] != "qualified"


SMUGGLED = {
    "id": 987654,
    "tenant_id": "someone-else",
    "created_at": "2001-01-01T00:00:00Z",
    "updated_at": "2001-01-01T00:00:00Z",
    "version": 42,
    "user_id": 3,
    **{name: f"TENANT#someone-else#X#{name}" for name in HIDDEN - {"tenant_id", "version"}},
}


def test_a_lead_body_cannot_set_ids_tenants_versions_or_keys(tenant, other_tenant):
    admin = World(tenant).admin
    created = admin.post("/leads", lead_body(**SMUGGLED))
    assert created.status_code == 201, created.json
    lead = created.json
    assert lead["id"] != SMUGGLED["id"] and created.headers["ETag"] == '"1"'
    assert not lead["created_at"].startswith("2001")
    assert not hidden_in(lead)

    updated = admin.put(f"/leads/{lead['id']}", lead_body(first_name="Jo", **SMUGGLED))
    assert updated.status_code == 200 and updated.json["id"] == lead["id"]
    assert updated.headers["ETag"] == '"2"' and updated.json["created_at"] == lead["created_at"]

    stored = items_of(tenant.tenant_id)[(LeadKeys.pk(tenant.tenant_id, lead["id"]), "LEAD")]
    assert "someone-else" not in repr(stored) and "2001" not in repr(stored)
    assert World(other_tenant).admin.get(f"/leads/{lead['id']}").status_code == 404


def test_child_bodies_cannot_set_ids_authors_or_keys(tenant):
    world = World(tenant)
    bob = tenant.as_user(2)
    lead, elsewhere = world.lead(), world.lead()
    smuggled = {**SMUGGLED, "lead_id": elsewhere}
    note = bob.post(f"/leads/{lead}/notes", {"content": "Called", **smuggled})
    task = bob.post(f"/leads/{lead}/tasks", {"title": "Call", **smuggled})
    email = bob.post(
        f"/leads/{lead}/linked-emails",
        {
            "subject": "Hi",
            "body": "Hi",
            "direction": "outbound",
            "sent_at": "2026-01-01T00:00:00Z",
            **smuggled,
        },
    )
    for response in (note, task, email):
        assert response.status_code == 201, response.json
        assert response.json["id"] != SMUGGLED["id"]
        assert not hidden_in(response.json)
    assert note.json["user_id"] == 2  # the author is the caller, not the body's user_id
    assert [n["id"] for n in bob.get(f"/leads/{lead}/notes").json["data"]] == [note.json["id"]]
    for child in ("notes", "tasks", "linked-emails"):  # nothing went to the body's lead_id
        assert bob.get(f"/leads/{elsewhere}/{child}").json == {"data": []}, child
