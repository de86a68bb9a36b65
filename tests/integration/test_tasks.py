"""Tasks of a lead: list order, add, change, delete; references checked in the tenant; and a
lead's delete taking its notes and tasks with it."""

from __future__ import annotations

import pytest

from leads_shared.data import get_directory_store, get_lead_store
from leads_shared.data.lead_entries import entries
from leads_shared.keys import KEY_ATTRIBUTES
from leads_shared.models.directory import DealStage, User
from tests.support.clients import lead_body

TASK_FIELDS = {
    "id", "lead_id", "title", "description", "due_date", "due_time", "priority", "assigned_to",
    "assigned_to_name", "contact_id", "company_id", "deal_id", "completed", "completed_at",
    "created_by", "created_at", "updated_at",
}  # fmt: skip


def new_lead(caller, **fields) -> int:
    return caller.post("/leads", lead_body(**fields)).json["id"]


def qualified_records(caller) -> dict[str, int]:
    """A contact, a company and a deal of the caller's tenant (by qualifying a new lead)."""
    get_directory_store().put_stage(
        DealStage(tenant_id=caller.tenant_id, id=1, name="Prospecting", position=1)
    )
    lead_id = new_lead(caller, company="Initech")
    result = caller.post(f"/leads/{lead_id}/qualify", {"create_company": True, "create_deal": True})
    assert result.status_code == 200, result.json
    return {k: result.json[k] for k in ("contact_id", "company_id", "deal_id")}


def partition(tenant_id: str, lead_id: int) -> list[dict]:
    store = get_lead_store()
    return store.client.query(
        TableName=store.table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}#LEAD#{lead_id}"}},
        ConsistentRead=True,
    )["Items"]


def test_add_task_with_every_field(bob):
    refs = qualified_records(bob)
    lead_id = new_lead(bob)
    body = {"title": " Call back ", "description": "About pricing", "due_date": "2026-01-15",
            "due_time": "14:30", "priority": "high", "assigned_to": 3, **refs}  # fmt: skip
    response = bob.post(f"/leads/{lead_id}/tasks", body)
    assert response.status_code == 201
    task = response.json
    assert set(task) == TASK_FIELDS
    assert {k: task[k] for k in body} == {**body, "title": "Call back"}
    assert (task["lead_id"], task["created_by"], task["assigned_to_name"]) == (lead_id, 2, "Carol Chen")
    assert (task["completed"], task["completed_at"]) == (False, None)
    assert bob.get(f"/leads/{lead_id}/tasks").json == {"data": [task]}


def test_task_defaults(bob):
    lead_id = new_lead(bob)
    task = bob.post(f"/leads/{lead_id}/tasks", {"title": "Follow up"}).json
    assert task["priority"] == "medium" and task["completed"] is False
    optional = ("description", "due_date", "due_time", "assigned_to", "assigned_to_name",
                "contact_id", "company_id", "deal_id", "completed_at")  # fmt: skip
    assert all(task[k] is None for k in optional)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": None}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 256}, "title"),
        ({"due_date": "2026-13-01"}, "due_date"),
        ({"due_date": "2026-02-30"}, "due_date"),
        ({"due_date": "15/01/2026"}, "due_date"),
        ({"due_date": "2026-01-15T10:00"}, "due_date"),
        ({"due_time": "25:00"}, "due_time"),
        ({"due_time": "9:00"}, "due_time"),
        ({"due_time": "14:30:00"}, "due_time"),
        ({"priority": "urgent"}, "priority"),
        ({"priority": None}, "priority"),
        ({"assigned_to": 99}, "assigned_to"),
        ({"contact_id": 99}, "contact_id"),
        ({"company_id": 99}, "company_id"),
        ({"deal_id": 99}, "deal_id"),
    ],
)
def test_invalid_fields_are_422_and_nothing_is_written(bob, fields, field):
    lead_id = new_lead(bob)
    response = bob.post(f"/leads/{lead_id}/tasks", {"title": "T", **fields})
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]
    assert bob.get(f"/leads/{lead_id}/tasks").json == {"data": []}


def test_references_of_another_tenant_are_invalid(bob, other_tenant):
    stranger = other_tenant.as_user(2)
    refs = qualified_records(stranger)  # ids 1 there; this tenant has no contact, company or deal
    get_directory_store().put_user(User(tenant_id=other_tenant.tenant_id, id=7, name="Zed",
                                        email="zed@x.com", role="user", team_id=1))  # fmt: skip
    lead_id = new_lead(bob)
    for field, value in {**refs, "assigned_to": 7}.items():
        response = bob.post(f"/leads/{lead_id}/tasks", {"title": "T", field: value})
        assert response.status_code == 422, field
        assert list(response.json["errors"]) == [field]
    assert bob.get(f"/leads/{lead_id}/tasks").json == {"data": []}


def test_tasks_are_ordered_by_due_date_then_time_undated_last(bob):
    lead_id = new_lead(bob)
    specs = [(None, None), ("2026-03-01", "09:00"), ("2026-01-15", "14:30"), ("2026-01-15", None),
             (None, "08:00"), ("2026-01-15", "08:05"), ("2026-01-15", "14:30")]  # fmt: skip
    ids = [
        bob.post(f"/leads/{lead_id}/tasks", {"title": f"t{i}", "due_date": d, "due_time": t}).json["id"]
        for i, (d, t) in enumerate(specs)
    ]
    listed = [t["id"] for t in bob.get(f"/leads/{lead_id}/tasks").json["data"]]
    # same day: untimed first, then by time, then by id; undated last (by id)
    assert listed == [ids[3], ids[5], ids[2], ids[6], ids[1], ids[0], ids[4]]


def test_update_keeps_left_out_fields_and_null_clears(bob):
    lead_id = new_lead(bob)
    created = bob.post(f"/leads/{lead_id}/tasks", {"title": "Call", "description": "d",
                       "due_date": "2026-01-15", "priority": "high", "assigned_to": 3}).json  # fmt: skip
    response = bob.put(
        f"/leads/{lead_id}/tasks/{created['id']}", {"title": "Call again", "description": None}
    )
    assert response.status_code == 200
    task = response.json
    assert set(task) == TASK_FIELDS
    assert (task["title"], task["description"]) == ("Call again", None)
    assert (task["due_date"], task["priority"], task["assigned_to_name"]) == (
        "2026-01-15",
        "high",
        "Carol Chen",
    )
    assert task["created_at"] == created["created_at"] and task["updated_at"] > created["updated_at"]
    moved = bob.put(f"/leads/{lead_id}/tasks/{task['id']}", {"title": "Call again", "assigned_to": 2}).json
    assert (moved["assigned_to"], moved["assigned_to_name"]) == (2, "Bob Baker")
    cleared = bob.put(
        f"/leads/{lead_id}/tasks/{task['id']}", {"title": "Call again", "assigned_to": None}
    ).json
    assert (cleared["assigned_to"], cleared["assigned_to_name"]) == (None, None)
    assert bob.get(f"/leads/{lead_id}/tasks").json == {"data": [cleared]}


def test_completing_sets_and_reopening_clears_completed_at(bob):
    lead_id = new_lead(bob)
    task_id = bob.post(f"/leads/{lead_id}/tasks", {"title": "Send quote"}).json["id"]
    done = bob.put(f"/leads/{lead_id}/tasks/{task_id}", {"title": "Send quote", "completed": True}).json
    assert done["completed"] is True and done["completed_at"] is not None
    assert done["completed_at"] == done["updated_at"]
    again = bob.put(f"/leads/{lead_id}/tasks/{task_id}", {"title": "Send quote", "completed": True}).json
    assert again["completed_at"] == done["completed_at"]  # completing twice keeps the first time
    reopened = bob.put(f"/leads/{lead_id}/tasks/{task_id}", {"title": "Send quote", "completed": False}).json
    assert (reopened["completed"], reopened["completed_at"]) == (False, None)
    born_done = bob.post(f"/leads/{lead_id}/tasks", {"title": "Done", "completed": True}).json
    assert born_done["completed"] is True and born_done["completed_at"] == born_done["created_at"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "no title"}, "title"),
        ({"title": "T", "priority": None}, "priority"),
        ({"title": "T", "assigned_to": 99}, "assigned_to"),
        ({"title": "T", "due_time": "9:00"}, "due_time"),
        ({"title": "T", "completed": None}, "completed"),
    ],
)
def test_invalid_updates_are_422_and_change_nothing(bob, body, field):
    lead_id = new_lead(bob)
    task = bob.post(f"/leads/{lead_id}/tasks", {"title": "Keep", "priority": "low"}).json
    response = bob.put(f"/leads/{lead_id}/tasks/{task['id']}", body)
    assert response.status_code == 422 and list(response.json["errors"]) == [field]
    assert bob.get(f"/leads/{lead_id}/tasks").json == {"data": [task]}


def test_fields_a_client_may_not_set_are_ignored(bob):
    lead_id, other_lead = new_lead(bob), new_lead(bob)
    sneaky = {"id": 999, "lead_id": other_lead, "created_by": 1, "tenant_id": "evil", "PK": "TENANT#x",
              "SK": "X", "version": 40, "completed_at": "2000-01-01", "assigned_to_name": "Mal"}  # fmt: skip
    task = bob.post(f"/leads/{lead_id}/tasks", {"title": "T", **sneaky}).json
    assert task["id"] != 999 and task["lead_id"] == lead_id and task["created_by"] == 2
    assert (task["completed_at"], task["assigned_to_name"]) == (None, None)
    assert not set(task) & (KEY_ATTRIBUTES | {"tenant_id", "version", "entity"})
    updated = bob.put(f"/leads/{lead_id}/tasks/{task['id']}", {"title": "T2", **sneaky}).json
    kept = ("id", "lead_id", "created_by", "completed_at", "assigned_to_name")
    assert [updated[k] for k in kept] == [task["id"], lead_id, 2, None, None]
    assert bob.get(f"/leads/{other_lead}/tasks").json == {"data": []}
    assert [t["title"] for t in bob.get(f"/leads/{lead_id}/tasks").json["data"]] == ["T2"]
    (stored,) = [item for item in partition(bob.tenant_id, lead_id) if item["SK"]["S"].startswith("TASK#")]
    assert (stored["tenant_id"]["S"], stored["version"]["N"]) == (bob.tenant_id, "2")


def test_delete_then_404(bob):
    lead_id = new_lead(bob)
    task_id = bob.post(f"/leads/{lead_id}/tasks", {"title": "T"}).json["id"]
    response = bob.delete(f"/leads/{lead_id}/tasks/{task_id}")
    assert response.status_code == 200 and response.json == {"success": True}
    assert bob.get(f"/leads/{lead_id}/tasks").json == {"data": []}
    for method in ("PUT", "DELETE"):
        gone = bob.request(method, f"/leads/{lead_id}/tasks/{task_id}", json_body={"title": "T"})
        assert gone.status_code == 404 and gone.json == {"message": "Task not found."}


def test_task_of_another_lead_or_tenant_or_a_missing_lead_is_404(bob, other_tenant):
    lead_id, other_lead = new_lead(bob), new_lead(bob)
    task = bob.post(f"/leads/{lead_id}/tasks", {"title": "Mine"}).json
    intruder = other_tenant.as_user(1)
    new_lead(intruder)  # a lead with the same id, in the other tenant
    for caller, lead in ((bob, other_lead), (intruder, lead_id)):
        assert caller.put(f"/leads/{lead}/tasks/{task['id']}", {"title": "Hacked"}).status_code == 404
        assert caller.delete(f"/leads/{lead}/tasks/{task['id']}").status_code == 404
    assert intruder.get(f"/leads/{lead_id}/tasks").json == {"data": []}
    assert bob.get(f"/leads/{lead_id}/tasks").json == {"data": [task]}
    assert bob.post("/leads/404/tasks", {"title": "T"}).status_code == 404
    assert bob.get("/leads/404/tasks").json == {"message": "Lead not found."}
    assert partition(bob.tenant_id, 404) == []


def test_removing_a_lead_with_more_than_100_children_for_good_empties_its_partition(alice, bob):
    lead_id, neighbour = new_lead(bob), new_lead(bob)
    for i in range(60):
        assert bob.post(f"/leads/{lead_id}/notes", {"content": f"n{i}"}).status_code == 201
    for i in range(50):
        assert bob.post(f"/leads/{lead_id}/tasks", {"title": f"t{i}"}).status_code == 201
    bob.post(f"/leads/{neighbour}/tasks", {"title": "kept"})
    # the lead, its 110 children, its creation's history entry and its index entries (one per sort
    # field, one per token)
    assert len(partition(bob.tenant_id, lead_id)) == 112 + len(
        entries(get_lead_store().get(bob.tenant_id, lead_id))
    )
    assert alice.delete(f"/leads/{lead_id}", query={"permanent": "true"}).status_code == 200
    assert partition(bob.tenant_id, lead_id) == []
    assert bob.get(f"/leads/{lead_id}/tasks").status_code == 404
    assert [t["title"] for t in bob.get(f"/leads/{neighbour}/tasks").json["data"]] == ["kept"]
