"""Notes of a lead: add, list (newest first, with the lead in one Query), delete (author or admin)."""

from __future__ import annotations

import re

import pytest

from leads_shared.data import get_lead_store
from tests.support.clients import lead_body

NOTE_FIELDS = {"id", "lead_id", "content", "user_id", "user_name", "created_at", "updated_at"}
TIMESTAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"


def partition(tenant_id: str, lead_id: int) -> list[dict]:
    """Every item stored in a lead's partition, read straight from DynamoDB."""
    store = get_lead_store()
    return store.client.query(
        TableName=store.table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}#LEAD#{lead_id}"}},
        ConsistentRead=True,
    )["Items"]


def test_add_note_returns_exactly_the_contract_fields(bob):
    lead_id = bob.post("/leads", lead_body()).json["id"]
    response = bob.post(f"/leads/{lead_id}/notes", {"content": "  Called, left a voicemail.  "})
    assert response.status_code == 201
    note = response.json
    assert set(note) == NOTE_FIELDS
    assert note["content"] == "Called, left a voicemail."  # trimmed
    assert (note["lead_id"], note["user_id"]) == (lead_id, 2)
    assert re.match(TIMESTAMP, note["created_at"]) and note["created_at"] == note["updated_at"]


def test_author_name_comes_from_the_directory_when_the_token_has_none(tenant, bob):
    lead_id = bob.post("/leads", lead_body()).json["id"]
    assert bob.post(f"/leads/{lead_id}/notes", {"content": "a"}).json["user_name"] == "Bob Baker"
    bobby = tenant.as_user(2, name="Bobby")  # the token's name claim wins
    assert bobby.post(f"/leads/{lead_id}/notes", {"content": "b"}).json["user_name"] == "Bobby"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": ""},
        {"content": "   \n "},
        {"content": "x" * 10_001},
        {"content": None},
        {"content": 5},
    ],
)
def test_invalid_content_is_422_and_nothing_is_written(bob, body):
    lead_id = bob.post("/leads", lead_body()).json["id"]
    response = bob.post(f"/leads/{lead_id}/notes", body)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["content"]
    assert bob.get(f"/leads/{lead_id}/notes").json == {"data": []}


def test_content_of_exactly_10000_characters_is_accepted(bob):
    lead_id = bob.post("/leads", lead_body()).json["id"]
    response = bob.post(f"/leads/{lead_id}/notes", {"content": "é" * 10_000})
    assert response.status_code == 201 and response.json["content"] == "é" * 10_000


def test_note_on_a_missing_lead_is_404_and_writes_nothing(tenant, bob):
    response = bob.post("/leads/77/notes", {"content": "Lost"})
    assert response.status_code == 404
    assert response.json == {"message": "Lead not found."}
    assert partition(tenant.tenant_id, 77) == []
    assert bob.get("/leads/77/notes").status_code == 404


def test_notes_come_newest_first_with_the_lead_in_one_query(bob):
    lead_id = bob.post("/leads", lead_body(notes="The lead's own notes.")).json["id"]
    ids = [bob.post(f"/leads/{lead_id}/notes", {"content": f"n{i}"}).json["id"] for i in range(3)]
    bob.post(f"/leads/{lead_id}/tasks", {"title": "Not a note"})  # same partition: must not show
    lead = bob.get(f"/leads/{lead_id}")
    assert lead.status_code == 200
    assert bob.last_cost["requests"] == 1 and bob.last_cost["by_operation"] == {"Query": 1}
    assert [n["id"] for n in lead.json["lead_notes"]] == ids[::-1]
    assert [n["content"] for n in lead.json["lead_notes"]] == ["n2", "n1", "n0"]
    assert all(set(n) == NOTE_FIELDS for n in lead.json["lead_notes"])
    assert lead.json["notes"] == "The lead's own notes."
    listed = bob.get(f"/leads/{lead_id}/notes")
    assert listed.status_code == 200 and listed.json == {"data": lead.json["lead_notes"]}


def test_notes_belong_to_their_lead(bob):
    first = bob.post("/leads", lead_body()).json["id"]
    second = bob.post("/leads", lead_body()).json["id"]
    bob.post(f"/leads/{first}/notes", {"content": "on the first"})
    assert bob.get(f"/leads/{second}/notes").json == {"data": []}
    assert bob.get(f"/leads/{second}").json["lead_notes"] == []


def test_author_deletes_their_note(bob):
    lead_id = bob.post("/leads", lead_body()).json["id"]
    kept = bob.post(f"/leads/{lead_id}/notes", {"content": "keep"}).json
    gone = bob.post(f"/leads/{lead_id}/notes", {"content": "drop"}).json
    response = bob.delete(f"/leads/{lead_id}/notes/{gone['id']}")
    assert response.status_code == 200 and response.json == {"success": True}
    assert bob.get(f"/leads/{lead_id}/notes").json == {"data": [kept]}
    again = bob.delete(f"/leads/{lead_id}/notes/{gone['id']}")
    assert again.status_code == 404 and again.json == {"message": "Note not found."}


def test_only_the_author_or_an_admin_may_delete(tenant, bob, alice):
    lead_id = bob.post("/leads", lead_body()).json["id"]
    note = bob.post(f"/leads/{lead_id}/notes", {"content": "Bob's"}).json
    carol = tenant.as_user(3)
    response = carol.delete(f"/leads/{lead_id}/notes/{note['id']}")
    assert response.status_code == 403 and "message" in response.json
    assert bob.get(f"/leads/{lead_id}/notes").json == {"data": [note]}  # still there
    assert alice.delete(f"/leads/{lead_id}/notes/{note['id']}").status_code == 200
    assert bob.get(f"/leads/{lead_id}/notes").json == {"data": []}


def test_note_of_another_lead_is_404_and_stays(bob):
    first = bob.post("/leads", lead_body()).json["id"]
    second = bob.post("/leads", lead_body()).json["id"]
    note = bob.post(f"/leads/{first}/notes", {"content": "on the first"}).json
    response = bob.delete(f"/leads/{second}/notes/{note['id']}")
    assert response.status_code == 404 and response.json == {"message": "Note not found."}
    assert bob.get(f"/leads/{first}/notes").json == {"data": [note]}


def test_another_tenants_notes_are_invisible_and_untouchable(bob, other_tenant):
    lead_id = bob.post("/leads", lead_body()).json["id"]
    note = bob.post(f"/leads/{lead_id}/notes", {"content": "private"}).json
    intruder = other_tenant.as_user(1)  # an admin, of another tenant
    assert intruder.get(f"/leads/{lead_id}/notes").status_code == 404
    assert intruder.delete(f"/leads/{lead_id}/notes/{note['id']}").status_code == 404
    assert intruder.post(f"/leads/{lead_id}/notes", {"content": "spam"}).status_code == 404
    # Even with a lead of the same id of its own.
    assert intruder.post("/leads", lead_body()).json["id"] == lead_id
    assert intruder.delete(f"/leads/{lead_id}/notes/{note['id']}").status_code == 404
    assert intruder.get(f"/leads/{lead_id}/notes").json == {"data": []}
    assert bob.get(f"/leads/{lead_id}/notes").json == {"data": [note]}


def test_fields_a_client_may_not_set_are_ignored(bob):
    lead_id = bob.post("/leads", lead_body()).json["id"]
    body = {"content": "hi", "id": 500, "lead_id": 9, "user_id": 1, "user_name": "Mallory",
            "tenant_id": "evil", "PK": "TENANT#evil", "created_at": "2000-01-01T00:00"}  # fmt: skip
    note = bob.post(f"/leads/{lead_id}/notes", body).json
    assert note["id"] != 500 and note["lead_id"] == lead_id and note["user_id"] == 2
    assert note["user_name"] == "Bob Baker" and not note["created_at"].startswith("2000")
    assert bob.get(f"/leads/{lead_id}/notes").json == {"data": [note]}


def test_removing_a_lead_for_good_deletes_its_notes(tenant, alice, bob):
    lead_id = bob.post("/leads", lead_body()).json["id"]
    for i in range(3):
        bob.post(f"/leads/{lead_id}/notes", {"content": f"n{i}"})
    assert alice.delete(f"/leads/{lead_id}", query={"permanent": "true"}).status_code == 200
    assert partition(tenant.tenant_id, lead_id) == []
    assert bob.get(f"/leads/{lead_id}/notes").status_code == 404


def test_a_removal_that_died_half_way_is_finished_by_the_retried_removal(alice, bob, monkeypatch):
    """A lead with more children than its removal's transaction holds: the process dies after the
    transaction (the lead is gone, 5 children are left: its creation's history entry sorts first,
    so 5 notes); the client's retry is a 404 that removes them."""
    from leads_shared.data.lead_store import CHILDREN_IN_DELETE, LeadStore

    lead = bob.post("/leads", lead_body()).json
    for n in range(CHILDREN_IN_DELETE + 4):
        assert bob.post(f"/leads/{lead['id']}/notes", {"content": f"note {n}"}).status_code == 201

    def dies(self, keys):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(LeadStore, "batch_delete", dies)
    assert alice.delete(f"/leads/{lead['id']}", query={"permanent": "true"}).status_code == 500
    monkeypatch.undo()
    assert len(partition(bob.tenant_id, lead["id"])) == 5  # unreachable leftovers
    assert bob.delete(f"/leads/{lead['id']}").status_code == 404  # not in the trash: nothing to trash
    assert len(partition(bob.tenant_id, lead["id"])) == 5
    assert alice.delete(f"/leads/{lead['id']}", query={"permanent": "true"}).status_code == 404
    assert partition(bob.tenant_id, lead["id"]) == []
