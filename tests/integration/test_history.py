"""A lead's history and timeline: every write of a lead records who changed what, in the same
transaction; ``GET /leads/{id}/history`` and ``GET /leads/{id}/timeline`` read them back newest
first, by cursor, from the lead's partition only."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devstack.emulator import Emulator
from leads_shared.data import get_directory_store, get_lead_store
from leads_shared.keys import LeadHistoryKeys, LeadKeys
from leads_shared.lead_history import HISTORY_FIELDS
from leads_shared.models.directory import DealStage
from tests.integration.test_lead_forms import make_form, person, post_json
from tests.support.clients import Caller, lead_body
from tests.support.csv_files import ImportPath, csv_bytes

ALICE = {"type": "user", "id": 1, "name": "Alice Admin"}
BOB = {"type": "user", "id": 2, "name": "Bob Baker"}
TWO_YEARS = 2 * 365 * 24 * 3600


def new_lead(caller: Caller, **fields: Any) -> int:
    response = caller.post("/leads", lead_body(**fields))
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def history(caller: Caller, lead: int, **query: Any) -> list[dict[str, Any]]:
    response = caller.get(f"/leads/{lead}/history", query=query)
    assert response.status_code == 200, response.json
    return response.json["data"]


def changed(entry: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {change["field"]: (change["old"], change["new"]) for change in entry["changes"]}


def test_each_put_records_its_field_diffs_with_its_author(alice: Caller, bob: Caller) -> None:
    lead = new_lead(bob, company="Acme", phone="+1 555 0100")

    assert bob.put(f"/leads/{lead}", lead_body(company="Acme Inc", phone=None)).status_code == 200
    assert alice.put(f"/leads/{lead}", lead_body(status="contacted", assigned_to=2)).status_code == 200
    assert bob.put(f"/leads/{lead}", lead_body(job_title="CTO")).status_code == 200
    assert bob.put(f"/leads/{lead}", lead_body(job_title="CTO")).status_code == 200  # changes nothing

    newest, status, edit, created = history(bob, lead)

    assert (newest["action"], newest["actor"], changed(newest)) == (
        "updated",
        BOB,
        {"job_title": (None, "CTO")},
    )
    assert status["action"] == "status_changed" and status["actor"] == ALICE
    assert changed(status) == {
        "status": ("new", "contacted"),
        "assigned_to": (None, 2),
        "assigned_to_name": (None, "Bob Baker"),
    }
    assert edit["actor"] == BOB
    assert changed(edit) == {"phone": ("+1 555 0100", None), "company": ("Acme", "Acme Inc")}
    assert created["action"] == "created" and created["actor"] == BOB
    assert changed(created)["first_name"] == (None, "John") and "version" not in changed(created)
    # each entry names the lead's version it made, as the ETag the write answered
    assert [entry["etag"] for entry in (newest, status, edit, created)] == ['"4"', '"3"', '"2"', '"1"']
    assert newest["at"] > status["at"] > edit["at"] > created["at"]


def test_qualify_disqualify_assign_delete_and_restore_are_recorded(
    tenant: Any, alice: Caller, bob: Caller
) -> None:
    get_directory_store().put_stage(DealStage(tenant_id=tenant.tenant_id, id=1, name="New", position=1))
    lost = new_lead(bob, last_name="Lost")
    won = new_lead(bob, last_name="Won")
    assert bob.put(f"/leads/{lost}", lead_body(last_name="Lost", assigned_to=3)).status_code == 200
    assert bob.put(f"/leads/{lost}/disqualify", {"reason": "No budget"}).status_code == 200
    assert alice.post(f"/leads/{won}/qualify", {"create_deal": True}).status_code == 200
    assert bob.delete(f"/leads/{lost}").status_code == 200
    assert alice.post(f"/leads/{lost}/restore").status_code == 200

    restored, deleted, disqualified, assigned, _ = history(bob, lost)
    assert [e["action"] for e in (restored, deleted, disqualified, assigned)] == [
        "restored",
        "deleted",
        "disqualified",
        "assigned",
    ]
    assert (restored["actor"], deleted["actor"], disqualified["actor"]) == (ALICE, BOB, BOB)
    assert deleted["changes"] == [] and restored["changes"] == []
    assert changed(disqualified)["status"] == ("new", "disqualified")
    assert changed(disqualified)["disqualified_reason"] == (None, "No budget")
    assert changed(assigned) == {"assigned_to": (None, 3), "assigned_to_name": (None, "Carol Chen")}

    qualified = history(bob, won)[0]
    assert (qualified["action"], qualified["actor"]) == ("qualified", ALICE)
    assert changed(qualified)["status"] == ("new", "qualified")
    assert {"contact_id", "deal_id", "qualified_at"} <= set(changed(qualified))


def test_history_of_one_field_and_an_unknown_field(bob: Caller) -> None:
    lead = new_lead(bob)
    for n, status in enumerate(("contacted", "new", "contacted")):
        assert bob.put(f"/leads/{lead}", lead_body(status=status)).status_code == 200
        assert bob.put(f"/leads/{lead}", lead_body(company=f"Company {n}")).status_code == 200

    statuses = history(bob, lead, field="status")

    assert [changed(e)["status"] for e in statuses] == [
        ("new", "contacted"),
        ("contacted", "new"),
        ("new", "contacted"),
        (None, "new"),
    ]
    assert all("status" in changed(e) for e in statuses)
    response = bob.get(f"/leads/{lead}/history", query={"field": "colour"})
    assert response.status_code == 422
    assert response.json["errors"]["field"] == [
        f"The selected field is invalid. Allowed values: {', '.join(HISTORY_FIELDS)}."
    ]


def test_history_survives_delete_and_restore_and_a_trashed_lead_is_404(alice: Caller, bob: Caller) -> None:
    lead = new_lead(bob)
    assert bob.put(f"/leads/{lead}", lead_body(company="Kept")).status_code == 200
    before = history(bob, lead)
    assert bob.delete(f"/leads/{lead}").status_code == 200

    for route in ("history", "timeline"):
        response = bob.get(f"/leads/{lead}/{route}")
        assert response.status_code == 404 and response.json == {"message": "Lead not found."}
    assert bob.post(f"/leads/{lead}/restore").status_code == 200

    after = history(bob, lead)
    assert [e["action"] for e in after[:2]] == ["restored", "deleted"]
    assert after[2:] == before


def test_another_tenants_lead_and_an_unknown_lead_are_404(bob: Caller, other_tenant: Any) -> None:
    lead = new_lead(bob)
    stranger = other_tenant.as_user(2)
    for route in ("history", "timeline"):
        assert stranger.get(f"/leads/{lead}/{route}").status_code == 404
        assert bob.get(f"/leads/999999/{route}").status_code == 404


def test_entries_expire_two_years_after_the_change(bob: Caller) -> None:
    lead = new_lead(bob)
    store = get_lead_store()
    response = store.client.query(
        TableName=store.table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :change)",
        ExpressionAttributeValues={
            ":pk": {"S": LeadKeys.pk(bob.tenant_id, lead)},
            ":change": {"S": LeadHistoryKeys.PREFIX},
        },
    )
    (item,) = response["Items"]
    assert abs(int(item["expires_at"]["N"]) - (time.time() + TWO_YEARS)) < 120


def test_the_timeline_merges_every_kind_newest_first_by_cursor_and_by_kind(bob: Caller) -> None:
    lead = new_lead(bob)
    email = {"subject": "Hi", "body": "Hello.", "direction": "outbound", "sent_at": "2030-01-01T00:00:00Z"}
    assert bob.post(f"/leads/{lead}/notes", {"content": "Called."}).status_code == 201
    assert bob.post(f"/leads/{lead}/tasks", {"title": "Send the deck"}).status_code == 201
    assert bob.put(f"/leads/{lead}/tasks/1", {"title": "Send the deck", "completed": True}).status_code == 200
    assert bob.put(f"/leads/{lead}", lead_body(status="contacted")).status_code == 200
    assert bob.post(f"/leads/{lead}/linked-emails", email).status_code == 201
    for n in range(4):
        assert bob.post(f"/leads/{lead}/notes", {"content": f"Note {n}."}).status_code == 201

    whole = bob.get(f"/leads/{lead}/timeline", query={"limit": 100}).json
    events = [(item["kind"], item["event"]) for item in whole["data"]]
    assert whole["next_cursor"] is None
    # the email was sent in 2030: it sorts first; the rest in the order they happened
    assert events == [
        ("email", "email_linked"),
        *[("note", "note_added")] * 4,
        ("change", "status_changed"),
        ("task", "task_completed"),
        ("task", "task_created"),
        ("note", "note_added"),
        ("change", "created"),
    ]
    times = [item["at"] for item in whole["data"]]
    assert times == sorted(times, reverse=True)
    assert whole["data"][-1]["change"]["actor"] == BOB

    pages, cursor, cursors = [], None, []
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = bob.get(f"/leads/{lead}/timeline", query=query).json
        pages.append(page["data"])
        cursor = page["next_cursor"]
        cursors.append(cursor)
        if cursor is None:
            break
    assert [len(page) for page in pages] == [3, 3, 3, 1]
    assert [item for page in pages for item in page] == whole["data"]  # no repeat, no gap

    only = bob.get(f"/leads/{lead}/timeline", query={"kind": "task,change"}).json["data"]
    assert [item["kind"] for item in only] == ["change", "task", "task", "change"]
    bad = bob.get(f"/leads/{lead}/timeline", query={"kind": "note,calls"})
    assert (
        bad.status_code == 422
        and "Allowed values: change, note, task, email, form" in bad.json["errors"]["kind"][0]
    )
    # a cursor of every kind's timeline is not one of the notes'
    other = bob.get(f"/leads/{lead}/timeline", query={"kind": "note", "cursor": cursors[0]})
    assert other.status_code == 422 and "cursor" in other.json["errors"]


def test_timeline_and_history_read_only_the_leads_partition_in_one_query(bob: Caller) -> None:
    for _ in range(5):  # other leads of the tenant change nothing below
        new_lead(bob)
    lead = new_lead(bob)
    assert bob.put(f"/leads/{lead}", lead_body(status="contacted")).status_code == 200
    assert bob.post(f"/leads/{lead}/notes", {"content": "Called."}).status_code == 201

    bob.get(f"/leads/{lead}/history", query={"field": "status"})
    assert bob.last_cost["by_operation"] == {"Query": 1} and bob.last_cost["items_read"] == 3  # 2 + lead
    bob.get(f"/leads/{lead}/timeline")
    assert bob.last_cost["by_operation"] == {"Query": 1}
    partition = get_lead_store().client.query(
        TableName=get_lead_store().table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": LeadKeys.pk(bob.tenant_id, lead)}},
        Select="COUNT",
    )["Count"]
    assert bob.last_cost["items_read"] == partition


@pytest.fixture
def import_path(emulator: Emulator) -> ImportPath:
    path = ImportPath(emulator)
    path.purge()
    return path


def test_an_import_records_its_creations_and_updates_as_the_import(
    alice: Caller, bob: Caller, import_path: ImportPath
) -> None:
    existing = new_lead(bob, email="known@client-co.com")
    started = alice.post("/leads/import", {"mode": "update"}).json
    rows = [
        {"first_name": "John", "last_name": "Doe", "email": "known@client-co.com", "company": "Imported Co"},
        {"first_name": "New", "last_name": "Row", "email": "new@client-co.com"},
    ]
    assert import_path.upload(started, csv_bytes(rows)).status_code < 300
    assert import_path.drain() == 1
    actor = {"type": "import", "id": started["import_id"], "name": None}

    update = history(bob, existing)[0]
    assert (update["action"], update["actor"], changed(update)) == (
        "updated",
        actor,
        {"company": (None, "Imported Co")},
    )
    made = next(row["id"] for row in bob.get("/leads").json["data"] if row["email"] == "new@client-co.com")
    (creation,) = history(bob, made)
    assert (creation["action"], creation["actor"]) == ("imported", actor)
    assert changed(creation)["email"] == (None, "new@client-co.com")


def test_a_web_form_is_the_actor_of_what_it_creates_and_fills(alice: Caller, gateway: Any) -> None:
    form = make_form(alice)
    first = person(alice, form)
    assert post_json(gateway, form["public_key"], first).status_code == 201
    (made,) = [row["id"] for row in alice.get("/leads").json["data"]]
    actor = {"type": "form", "id": form["id"], "name": form["name"]}
    (creation,) = history(alice, made)
    assert (creation["action"], creation["actor"]) == ("created", actor)

    existing = new_lead(alice, email="grace@navy.example")
    values = person(alice, form, email="grace@navy.example", phone="+1 555 0100")
    assert post_json(gateway, form["public_key"], values).status_code == 201

    filled = history(alice, existing)[0]
    assert (filled["action"], filled["actor"]) == ("updated", actor)
    assert changed(filled)["phone"] == (None, "+1 555 0100")
    kinds = [item["kind"] for item in alice.get(f"/leads/{existing}/timeline").json["data"]]
    assert kinds == ["note", "form", "change"]  # the form's note, its fill, the user's creation
