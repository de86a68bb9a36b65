"""Merging leads, as its users rely on it: the survivor takes the chosen values and the others'
notes, tasks and emails; the others answer 404 with ``merged_into`` and leave every list, search,
count, match and lookup; a merge interrupted anywhere is finished by its retry, never half-done
or done twice; two merges of the same leads: one 409; an undo brings everything back exactly."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devstack.emulator import Emulator
from devstack.runtime import LambdaFunction
from devstack.seed import dropbox_address as dropbox
from leads_shared import merges
from leads_shared.auth import Principal
from leads_shared.data import dynamo, get_activity_store, get_lead_store, get_mail_store, get_merge_store
from leads_shared.data.merge_store import CHILDREN_PER_MOVE, MergeStore
from leads_shared.keys import LeadKeys
from leads_shared.models.activities import Task
from leads_shared.models.merges import MergeRequest
from tests.support.clients import Caller, Tenant, lead_body
from tests.support.mail import OK, alternative, deliver, linked

EMAIL = {
    "subject": "Proposal",
    "body": "Attached.",
    "direction": "outbound",
    "sent_at": "2026-01-02T03:04:05Z",
}
# What a write changes on a lead besides its values (compared apart).
BOOKKEEPING = ("updated_at",)


def new_lead(caller: Caller, **fields: Any) -> int:
    response = caller.post("/leads", lead_body(**fields))
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def add_children(caller: Caller, lead: int, notes: int = 1, tasks: int = 1, emails: int = 1) -> None:
    for n in range(notes):
        assert caller.post(f"/leads/{lead}/notes", {"content": f"note {n} of {lead}"}).status_code == 201
    for n in range(tasks):
        assert caller.post(f"/leads/{lead}/tasks", {"title": f"task {n} of {lead}"}).status_code == 201
    for _ in range(emails):
        assert caller.post(f"/leads/{lead}/linked-emails", EMAIL).status_code == 201


def email_linked_to_both(caller: Caller, first: int, second: int) -> dict[str, Any]:
    """An email linked to ``first`` and to ``second`` too (as a captured email sent to both
    addresses): its link, as ``first``'s emails list it."""
    add_children(caller, first, notes=0, tasks=0, emails=1)
    (link,) = caller.get(f"/leads/{first}/linked-emails").json["data"]
    stored = get_mail_store().links(caller.tenant_id, first)
    assert stored is not None
    assert get_mail_store().add_link(stored[0].model_copy(update={"lead_id": second}))
    return dict(link)


def lead_state(caller: Caller, lead: int) -> dict[str, Any]:
    """What a lead's routes answer: the lead (without its write time), its notes, tasks, emails."""
    found = caller.get(f"/leads/{lead}")
    assert found.status_code == 200, found.json
    values = {name: value for name, value in found.json.items() if name not in BOOKKEEPING}
    return {
        "lead": values,
        **{kind: caller.get(f"/leads/{lead}/{kind}").json for kind in ("tasks", "linked-emails")},
    }


def tenant_view(caller: Caller, lead: int, email: str) -> dict[str, Any]:
    """What lists, counts, search, duplicates and lookups show around ``lead``."""
    ids = lambda response: sorted(item["id"] for item in response.json["data"])  # noqa: E731
    return {
        "total": caller.get("/leads").json["total"],
        "new": caller.get("/leads", query={"status": "new"}).json["total"],
        "user 2": caller.get("/leads", query={"assigned_to": 2}).json["total"],
        "by name": ids(caller.get("/leads", query={"per_page": 100})),
        "by email": ids(caller.get("/leads", query={"sort_by": "email", "per_page": 100})),
        "search": ids(caller.get("/leads", query={"search": "merger"})),
        "duplicates": ids(caller.get(f"/leads/{lead}/duplicates")),
        "lookup": [m["id"] for m in caller.get("/leads/match-contact", query={"email": email}).json["data"]],
    }


def partition_keys(tenant_id: str, lead: int) -> list[str]:
    store = get_lead_store()
    items = store.client.query(
        TableName=store.table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": LeadKeys.pk(tenant_id, lead)}},
        ConsistentRead=True,
    )["Items"]
    return [item["SK"]["S"] for item in items]


def children_of(tenant_id: str, lead: int) -> list[str]:
    return [key for key in partition_keys(tenant_id, lead) if key.startswith(("NOTE#", "TASK#"))]


def ops(caller: Caller) -> dict[str, int]:
    return caller.last_cost["by_operation"]


class CrashingClient:
    """The real client, except that the process dies right after its ``after``-th transaction
    committed (the answer never reaches the caller)."""

    def __init__(self, client: Any, after: int) -> None:
        self._client = client
        self.after = after
        self.transactions = 0

    def transact_write_items(self, **kwargs: Any) -> Any:
        answer = self._client.transact_write_items(**kwargs)
        self.transactions += 1
        if self.transactions == self.after:
            raise RuntimeError("Lambda killed")
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def crash(monkeypatch):
    """``crash(n)``: the next request dies after its n-th transaction; ``crash(None)``: no more."""
    real = dynamo.dynamodb_client()

    def arm(after: int | None) -> None:
        if after is None:
            monkeypatch.setattr(dynamo, "dynamodb_client", lambda: real)
        else:
            client = CrashingClient(real, after)
            monkeypatch.setattr(dynamo, "dynamodb_client", lambda: client)

    return arm


# ------------------------------------------------------------------ the merge
def test_a_merge_gives_the_survivor_the_values_and_children_and_removes_the_others(bob, alice):
    survivor = new_lead(bob, first_name="Ann", last_name="Merger", email="ann@acme.com", status="contacted")
    other = new_lead(
        bob, first_name="Annie", last_name="Merger", email="annie@acme.com", phone="+1 555 0100",
        company="Acme", assigned_to=2,
    )  # fmt: skip
    third = new_lead(
        bob, first_name="A.", last_name="Merger", email="a@acme.com", tags="vip", company="ACME Inc"
    )
    add_children(bob, survivor)
    add_children(bob, other, notes=2, tasks=1, emails=1)
    add_children(bob, third, notes=1, tasks=0, emails=0)
    before = tenant_view(bob, survivor, "annie@acme.com")
    assert before["total"] == 3 and before["search"] == [survivor, other, third]

    response = bob.post(
        f"/leads/{survivor}/merge",
        {"merge_ids": [other, third], "fields": {"company": third, "last_name": other}},
    )
    assert response.status_code == 200, response.json
    result = response.json
    assert result["status"] == "done" and result["merged_ids"] == [other, third] and result["merge_id"]
    lead = result["survivor"]
    # its own values first, then the first non-empty of the others (in order), then the chosen ones
    assert (lead["first_name"], lead["email"], lead["status"]) == ("Ann", "ann@acme.com", "contacted")
    assert (lead["phone"], lead["assigned_to"], lead["assigned_to_name"]) == ("+1 555 0100", 2, "Bob Baker")
    assert (lead["company"], lead["tags"]) == ("ACME Inc", "vip")
    assert result["chosen"] == {"phone": other, "company": third, "tags": third, "assigned_to": other}
    assert result["moved"] == {"notes": 3, "tasks": 1, "emails": 1}
    assert bob.get(f"/leads/{survivor}").json == {
        **lead,
        "lead_notes": bob.get(f"/leads/{survivor}").json["lead_notes"],
    }

    notes = bob.get(f"/leads/{survivor}/notes").json["data"]
    assert sorted(n["content"] for n in notes) == sorted(
        [f"note 0 of {survivor}", f"note 0 of {other}", f"note 1 of {other}", f"note 0 of {third}"]
    )
    assert {n["lead_id"] for n in notes} == {survivor}
    assert len(bob.get(f"/leads/{survivor}/tasks").json["data"]) == 2
    assert len(bob.get(f"/leads/{survivor}/linked-emails").json["data"]) == 2

    for gone in (other, third):
        found = bob.get(f"/leads/{gone}")
        assert found.status_code == 404
        assert found.json["merged_into"] == survivor and found.json["merge_id"] == result["merge_id"]
        for method, path in (("GET", "/notes"), ("GET", "/tasks"), ("GET", "/linked-emails"), ("PUT", ""),
                             ("DELETE", ""), ("GET", "/history"), ("POST", "/notes")):  # fmt: skip
            body = {"first_name": "X", "last_name": "Y"} if method == "PUT" else {"content": "x"}
            assert bob.request(method, f"/leads/{gone}{path}", json_body=body).status_code == 404
        assert children_of(bob.tenant_id, gone) == []
    # not even an admin's removal for good reaches it (its undo needs what it left)
    assert alice.delete(f"/leads/{other}", query={"permanent": "true"}).status_code == 404
    assert "MERGED" in partition_keys(bob.tenant_id, other)

    after = tenant_view(bob, survivor, "annie@acme.com")
    assert after == {
        "total": 1, "new": 0, "user 2": 1, "by name": [survivor], "by email": [survivor],
        "search": [survivor], "duplicates": [], "lookup": [],
    }  # fmt: skip
    assert bob.get("/leads/trash").json["data"] == []  # not in the recycle bin

    history = bob.get(f"/leads/{survivor}/history").json["data"]
    merged = history[0]
    assert merged["action"] == "merged" and merged["actor"] == {"type": "user", "id": 2, "name": "Bob Baker"}
    assert merged["merge"] == {
        "merge_id": result["merge_id"],
        "survivor_id": survivor,
        "merged_ids": [other, third],
    }
    assert [c["field"] for c in merged["changes"]] == [
        "phone",
        "company",
        "tags",
        "assigned_to",
        "assigned_to_name",
    ]
    timeline = bob.get(f"/leads/{survivor}/timeline", query={"kind": "change"}).json["data"]
    assert (timeline[0]["event"], timeline[0]["change"]["merge"]["merge_id"]) == (
        "merged",
        result["merge_id"],
    )
    listed = bob.get(f"/leads/{survivor}/merges").json["data"]
    assert [(m["merge_id"], m["status"]) for m in listed] == [(result["merge_id"], "done")]
    record = get_merge_store().record(bob.tenant_id, survivor, result["merge_id"])
    assert record is not None and record.expires_at > time.time() + 729 * 24 * 3600  # TTL: 2 years


def test_what_a_merge_refuses(bob, alice, other_tenant):
    survivor, other, third = new_lead(bob), new_lead(bob), new_lead(bob)
    stranger = new_lead(other_tenant.as_user(2))
    assert stranger in (survivor, other, third)  # the same id, in another tenant
    cases = [
        ({"merge_ids": [survivor]}, 422),
        ({"merge_ids": [other, other]}, 422),
        ({"merge_ids": [other, third, 97, 98]}, 422),
        ({"merge_ids": []}, 422),
        ({"merge_ids": [other], "fields": {"phone": third}}, 422),
        ({"merge_ids": [other], "fields": {"status": other}}, 422),
        ({"merge_ids": [other], "fields": {"id": other}}, 422),
        ({"merge_ids": [99]}, 404),
    ]
    for body, status in cases:
        response = bob.post(f"/leads/{survivor}/merge", body)
        assert response.status_code == status, (body, response.json)
    assert bob.post("/leads/99/merge", {"merge_ids": [other]}).status_code == 404
    # another tenant's leads are not found, whatever their ids
    assert other_tenant.as_user(2).post(f"/leads/{stranger}/merge", {"merge_ids": [99]}).status_code == 404
    assert bob.get("/leads").json["total"] == 3

    # a qualified lead cannot be merged away; a qualified survivor stays qualified
    assert alice.post(f"/leads/{other}/qualify", {}).status_code == 200
    refused = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [third, other]})
    assert refused.status_code == 409 and f"Lead {other}" in refused.json["message"]
    assert bob.get("/leads").json["total"] == 3
    kept = bob.post(f"/leads/{other}/merge", {"merge_ids": [third]})
    assert kept.status_code == 200 and kept.json["survivor"]["status"] == "qualified"
    assert kept.json["survivor"]["contact_id"] is not None


def test_a_dry_run_answers_the_merge_and_writes_nothing(bob):
    survivor = new_lead(bob, first_name="Dry", email="dry@x.com")
    other = new_lead(bob, first_name="Run", phone="+44 20 7946 0000")
    add_children(bob, other, notes=2, tasks=1, emails=0)
    before = (lead_state(bob, survivor), lead_state(bob, other), partition_keys(bob.tenant_id, other))
    response = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other], "dry_run": True})
    assert response.status_code == 200, response.json
    assert ops(bob) == {"Query": 2}  # the two partitions; no write of any kind
    answer = response.json
    assert answer["dry_run"] is True and answer["merge_id"] is None and answer["status"] is None
    assert answer["survivor"]["phone"] == "+44 20 7946 0000" and answer["moved"] == {
        "notes": 2,
        "tasks": 1,
        "emails": 0,
    }
    assert (lead_state(bob, survivor), lead_state(bob, other), partition_keys(bob.tenant_id, other)) == before


def test_what_a_small_merge_costs(bob):
    survivor, other = new_lead(bob), new_lead(bob, phone="+1 555 0199")
    add_children(bob, other, notes=1, tasks=0, emails=0)
    assert bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]}).status_code == 200
    # the two partitions; the claim; the other's partition again (what moves); the move; the finish
    assert ops(bob) == {"Query": 3, "TransactWriteItems": 3}
    merge_id = bob.get(f"/leads/{survivor}/merges").json["data"][0]["merge_id"]
    assert ops(bob) == {"Query": 1} and bob.last_cost["items_read"] == 2  # the lead, its merge
    assert bob.post(f"/leads/{survivor}/merges/{merge_id}/undo").status_code == 200
    # the survivor's partition; the merged lead's item; the leads back; the move back; the finish;
    # the emails captured for the address of the lead back
    assert ops(bob) == {"Query": 2, "GetItem": 1, "TransactWriteItems": 3}


# ------------------------------------------------------------------ all or nothing
def test_a_merge_killed_half_way_is_finished_by_its_retry_exactly_once(bob, crash):
    survivor = new_lead(bob, first_name="Big", last_name="Merger", email="big@x.com")
    other = new_lead(bob, first_name="Bigger", last_name="Merger", email="bigger@x.com", phone="+1 555 0123")
    add_children(bob, survivor, notes=1, tasks=1, emails=0)
    add_children(bob, other, notes=200, tasks=50, emails=0)
    moves = -(-250 // CHILDREN_PER_MOVE)  # 6 transactions of children
    request = {"merge_ids": [other]}

    crash(3)  # the claim and two moves commit, then the function dies
    assert bob.post(f"/leads/{survivor}/merge", request).status_code == 500
    crash(None)
    # meanwhile: the other is merged away; the survivor keeps its values, its children come in
    assert bob.get(f"/leads/{other}").json["merged_into"] == survivor
    assert bob.get(f"/leads/{survivor}").json["phone"] is None
    here, there = children_of(bob.tenant_id, survivor), children_of(bob.tenant_id, other)
    assert (
        len(here) == 2 + 2 * CHILDREN_PER_MOVE
        and len(here) + len(there) == 252
        and not set(here) & set(there)
    )
    assert bob.get("/leads").json["total"] == 1  # counted once all along
    pending = bob.get(f"/leads/{survivor}/merges").json["data"]
    assert [m["status"] for m in pending] == ["moving"]

    retried = bob.post(f"/leads/{survivor}/merge", request)
    assert retried.status_code == 200, retried.json
    assert ops(bob)["TransactWriteItems"] == moves - 2 + 1  # the moves left, and the finish
    assert retried.json["merge_id"] == pending[0]["merge_id"]  # the same merge, finished
    assert retried.json["survivor"]["phone"] == "+1 555 0123"
    assert len(children_of(bob.tenant_id, survivor)) == 252 and children_of(bob.tenant_id, other) == []
    assert len(bob.get(f"/leads/{survivor}").json["lead_notes"]) == 201
    assert len(bob.get(f"/leads/{survivor}/tasks").json["data"]) == 51
    assert bob.get("/leads").json["total"] == 1
    assert bob.get("/leads", query={"search": "bigger"}).json["total"] == 0
    assert [m["status"] for m in bob.get(f"/leads/{survivor}/merges").json["data"]] == ["done"]
    history = bob.get(f"/leads/{survivor}/history").json["data"]
    assert [h["action"] for h in history].count("merged") == 1  # recorded once
    # a retry of a merge done already answers what it did, and writes nothing
    again = bob.post(f"/leads/{survivor}/merge", request)
    assert again.status_code == 200 and again.json["merge_id"] == retried.json["merge_id"]
    assert "TransactWriteItems" not in ops(bob)


def test_a_merge_killed_before_its_claim_leaves_nothing_and_any_later_call_finishes_one(bob, crash):
    survivor, other = new_lead(bob, email="s@x.com"), new_lead(bob, email="o@x.com", company="Initech")
    add_children(bob, other, notes=60, tasks=0, emails=0)
    crash(1)  # dies right after the claim: the merge must still happen
    assert bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]}).status_code == 500
    crash(None)
    # the undo of another merge of the survivor, or any merge naming it, finishes it first
    third = new_lead(bob, email="t@x.com")
    later = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [third], "dry_run": True})
    assert later.status_code == 200 and later.json["survivor"]["company"] == "Initech"
    assert len(children_of(bob.tenant_id, survivor)) == 60 and children_of(bob.tenant_id, other) == []
    assert [m["status"] for m in bob.get(f"/leads/{survivor}/merges").json["data"]] == ["done"]


def test_retries_with_an_idempotency_key_answer_the_same(bob, crash):
    survivor, other = new_lead(bob), new_lead(bob, phone="+1 555 0111")
    add_children(bob, other, notes=3, tasks=0, emails=0)
    key = {"Idempotency-Key": "merge-1"}
    crash(2)  # the claim and the move commit, the function dies before the finish
    assert bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]}, headers=key).status_code == 500
    crash(None)
    first = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]}, headers=key)
    assert first.status_code == 200 and first.json["survivor"]["phone"] == "+1 555 0111"
    replay = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]}, headers=key)
    assert replay.status_code == 200 and replay.json == first.json
    assert "TransactWriteItems" not in ops(bob)
    other_body = bob.post(
        f"/leads/{survivor}/merge",
        {"merge_ids": [other], "dry_run": False, "fields": {"phone": other}},
        headers=key,
    )
    assert other_body.status_code == 422 and "Idempotency-Key" in other_body.json["errors"]
    assert len(bob.get(f"/leads/{survivor}/merges").json["data"]) == 1


def test_two_merges_of_the_same_leads_at_once_one_wins_the_other_is_a_409(bob, monkeypatch):
    first, second, third = new_lead(bob), new_lead(bob), new_lead(bob)
    real_claim = MergeStore.claim
    rival = Principal(user_id=1, tenant_id=bob.tenant_id, role="admin", name="Alice Admin")

    def the_other_merge_claims_first(self, *args, **kwargs):
        monkeypatch.setattr(MergeStore, "claim", real_claim)
        # between this merge's reads and its claim, another request merges the same leads
        merges.merge_leads(rival, second, MergeRequest(merge_ids=[first, third]), get_merge_store())
        return real_claim(self, *args, **kwargs)

    monkeypatch.setattr(MergeStore, "claim", the_other_merge_claims_first)
    lost = bob.post(f"/leads/{first}/merge", {"merge_ids": [second, third]})
    assert lost.status_code == 409 and "another request" in lost.json["message"]
    assert bob.get(f"/leads/{first}").json["merged_into"] == second
    assert bob.get("/leads").json["total"] == 1
    assert len(bob.get(f"/leads/{second}/merges").json["data"]) == 1
    assert bob.get(f"/leads/{first}/merges").status_code == 404


def test_a_merge_is_tenant_isolated(bob, other_tenant):
    carol = other_tenant.as_user(2)
    mine = new_lead(bob)  # lead 1 of bob's tenant
    theirs, second = new_lead(carol), new_lead(carol)  # leads 1 and 2 of the other tenant
    assert mine == theirs
    assert bob.post(f"/leads/{mine}/merge", {"merge_ids": [second]}).status_code == 404
    merged = carol.post(f"/leads/{theirs}/merge", {"merge_ids": [second]})
    assert merged.status_code == 200
    merge_id = merged.json["merge_id"]
    assert bob.post(f"/leads/{mine}/merges/{merge_id}/undo").status_code == 404
    assert bob.get(f"/leads/{mine}/merges").json["data"] == []
    gone = bob.get(f"/leads/{second}")
    assert gone.status_code == 404 and "merged_into" not in gone.json
    assert bob.get("/leads").json["total"] == 1 and carol.get("/leads").json["total"] == 1


def test_children_changed_while_they_move_are_moved_as_they_are_now(bob, monkeypatch):
    survivor, other = new_lead(bob), new_lead(bob)
    add_children(bob, other, notes=2, tasks=1, emails=0)
    activities = get_activity_store()
    real_move, real_back = MergeStore.move_children, MergeStore.move_back

    def a_task_edit_that_read_before_the_claim_lands(self, record, origin, children, kept):
        monkeypatch.setattr(MergeStore, "move_children", real_move)
        task = Task.model_validate(activities.get_values(LeadKeys.task(bob.tenant_id, origin, 1)))
        activities.replace_task(
            task, task.model_copy(update={"title": "Edited", "version": task.version + 1})
        )
        return real_move(self, record, origin, children, kept)  # with what it read before

    monkeypatch.setattr(MergeStore, "move_children", a_task_edit_that_read_before_the_claim_lands)
    merged = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]})
    assert merged.status_code == 200
    assert [t["title"] for t in bob.get(f"/leads/{survivor}/tasks").json["data"]] == ["Edited"]
    assert children_of(bob.tenant_id, other) == []

    def a_note_deleted_on_the_survivor_meanwhile(self, record, children):
        monkeypatch.setattr(MergeStore, "move_back", real_back)
        activities.remove_note(bob.tenant_id, survivor, 1)
        return real_back(self, record, children)  # with what it read before

    monkeypatch.setattr(MergeStore, "move_back", a_note_deleted_on_the_survivor_meanwhile)
    assert bob.post(f"/leads/{survivor}/merges/{merged.json['merge_id']}/undo").status_code == 200
    assert [n["id"] for n in bob.get(f"/leads/{other}/notes").json["data"]] == [2]  # not back
    assert [t["title"] for t in bob.get(f"/leads/{other}/tasks").json["data"]] == ["Edited"]
    assert children_of(bob.tenant_id, survivor) == []


# ------------------------------------------------------------------ undo
def test_an_undo_brings_back_exactly_what_was_there(bob):
    survivor = new_lead(bob, first_name="Una", last_name="Merger", email="una@x.com", assigned_to=3)
    other = new_lead(bob, first_name="Otto", last_name="Merger", email="otto@x.com", phone="+1 555 0101",
                     company="Globex", status="contacted", assigned_to=2)  # fmt: skip
    third = new_lead(bob, first_name="Thea", last_name="Merger", phone="+1 555 0101", company="Globex")
    for lead in (survivor, other, third):
        add_children(bob, lead, notes=2, tasks=1, emails=1)
    states = {lead: lead_state(bob, lead) for lead in (survivor, other, third)}
    view = tenant_view(bob, third, "otto@x.com")
    assert view["duplicates"] == [other] and view["lookup"] == [other]

    merge = bob.post(
        f"/leads/{survivor}/merge",
        {"merge_ids": [other, third], "fields": {"assigned_to": other, "first_name": third}},
    ).json
    assert tenant_view(bob, survivor, "otto@x.com")["total"] == 1

    response = bob.post(f"/leads/{survivor}/merges/{merge['merge_id']}/undo")
    assert response.status_code == 200, response.json
    assert response.json["restored_ids"] == [other, third] and response.json["kept"] == []
    for lead, state in states.items():
        now = lead_state(bob, lead)
        assert now["lead"] == state["lead"]
        assert now == state
    assert tenant_view(bob, third, "otto@x.com") == view
    for lead in (survivor, other, third):
        assert len(children_of(bob.tenant_id, lead)) == 3
    history = bob.get(f"/leads/{other}/history").json["data"]
    assert [h["action"] for h in history[:2]] == ["unmerged", "merged"]
    assert bob.get(f"/leads/{survivor}/history").json["data"][0]["action"] == "unmerged"
    listed = bob.get(f"/leads/{survivor}/merges").json["data"]
    assert listed[0]["status"] == "undone" and listed[0]["undone_at"]

    again = bob.post(f"/leads/{survivor}/merges/{merge['merge_id']}/undo")
    assert again.status_code == 409
    assert bob.post(f"/leads/{survivor}/merges/{survivor}-99/undo").status_code == 404
    assert bob.post(f"/leads/{survivor}/merges/nope/undo").status_code == 422
    # merged again, after the undo: a new merge
    assert bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]}).status_code == 200


def test_an_email_linked_to_both_leads_stays_linked_once_and_comes_back_with_an_undo(bob):
    survivor, other = new_lead(bob, email="both1@x.com"), new_lead(bob, email="both2@x.com")
    link = email_linked_to_both(bob, survivor, other)
    before = (lead_state(bob, survivor), lead_state(bob, other))

    merged = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]})
    assert merged.json["moved"] == {"notes": 0, "tasks": 0, "emails": 0}
    assert [e["id"] for e in bob.get(f"/leads/{survivor}/linked-emails").json["data"]] == [link["id"]]
    assert bob.get(f"/leads/{survivor}/linked-emails/{link['id']}").status_code == 200

    undone = bob.post(f"/leads/{survivor}/merges/{merged.json['merge_id']}/undo")
    assert undone.status_code == 200
    assert (lead_state(bob, survivor), lead_state(bob, other)) == before


def test_an_undo_keeps_what_changed_on_the_survivor_since_the_merge(bob):
    survivor = new_lead(bob, email="keep@x.com")
    other = new_lead(bob, email="k2@x.com", phone="+1 555 0155", company="Hooli")
    merge_id = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]}).json["merge_id"]
    assert (
        bob.put(
            f"/leads/{survivor}", {"first_name": "John", "last_name": "Doe", "phone": "+1 555 0999"}
        ).status_code
        == 200
    )
    undone = bob.post(f"/leads/{survivor}/merges/{merge_id}/undo").json
    assert undone["kept"] == ["phone"]
    assert (undone["survivor"]["phone"], undone["survivor"]["company"]) == ("+1 555 0999", None)
    assert bob.get(f"/leads/{other}").json["company"] == "Hooli"


def test_an_undo_killed_half_way_is_finished_by_its_retry(bob, crash):
    survivor = new_lead(bob, email="u1@x.com")
    other = new_lead(bob, email="u2@x.com", company="Umbrella")
    add_children(bob, other, notes=120, tasks=0, emails=0)
    before = (lead_state(bob, survivor), lead_state(bob, other))
    merge_id = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]}).json["merge_id"]

    crash(2)  # the leads back and the first move back commit, then the function dies
    assert bob.post(f"/leads/{survivor}/merges/{merge_id}/undo").status_code == 500
    crash(None)
    assert bob.get(f"/leads/{other}").status_code == 200  # back already
    assert len(children_of(bob.tenant_id, other)) == CHILDREN_PER_MOVE
    retried = bob.post(f"/leads/{survivor}/merges/{merge_id}/undo")
    assert retried.status_code == 200, retried.json
    assert (lead_state(bob, survivor), lead_state(bob, other)) == before
    assert bob.get("/leads").json["total"] == 2


def test_an_email_linked_to_two_merged_leads_is_linked_once_and_each_gets_it_back(bob):
    survivor = new_lead(bob, email="s3@x.com")
    other, third = new_lead(bob, email="o3@x.com"), new_lead(bob, email="t3@x.com")
    link = email_linked_to_both(bob, other, third)
    before = {lead: lead_state(bob, lead) for lead in (survivor, other, third)}

    dry = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other, third], "dry_run": True})
    assert dry.json["moved"] == {"notes": 0, "tasks": 0, "emails": 1}
    merged = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other, third]})
    assert merged.status_code == 200, merged.json
    assert merged.json["moved"] == {"notes": 0, "tasks": 0, "emails": 1}
    assert [e["id"] for e in bob.get(f"/leads/{survivor}/linked-emails").json["data"]] == [link["id"]]

    undone = bob.post(f"/leads/{survivor}/merges/{merged.json['merge_id']}/undo")
    assert undone.status_code == 200, undone.json
    assert {lead: lead_state(bob, lead) for lead in (survivor, other, third)} == before


def test_an_email_linked_to_the_survivor_while_the_merge_moves_stays_the_survivors(bob, monkeypatch):
    survivor, other = new_lead(bob, email="race1@x.com"), new_lead(bob, email="race2@x.com")
    add_children(bob, other, notes=1, tasks=0, emails=1)
    (stored,) = get_mail_store().links(bob.tenant_id, other) or []
    real_move = MergeStore.move_children

    def the_capture_links_the_survivor_too(self, record, origin, children, kept):
        monkeypatch.setattr(MergeStore, "move_children", real_move)
        # between the merge's read of the survivor and its move, the email's capture links it
        assert get_mail_store().add_link(stored.model_copy(update={"lead_id": survivor}))
        return real_move(self, record, origin, children, kept)

    monkeypatch.setattr(MergeStore, "move_children", the_capture_links_the_survivor_too)
    before = lead_state(bob, other)
    merged = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]})
    assert merged.status_code == 200, merged.json
    assert [e["id"] for e in bob.get(f"/leads/{survivor}/linked-emails").json["data"]] == [stored.id]
    own = lead_state(bob, survivor)["linked-emails"]

    undone = bob.post(f"/leads/{survivor}/merges/{merged.json['merge_id']}/undo")
    assert undone.status_code == 200, undone.json
    assert lead_state(bob, other) == before
    assert lead_state(bob, survivor)["linked-emails"] == own  # its own link, not the other's


def test_an_email_captured_while_a_lead_was_merged_away_is_linked_when_the_undo_brings_it_back(
    emulator: Emulator, ingest: LambdaFunction, tenant: Tenant, bob: Caller
) -> None:
    survivor, other = new_lead(bob, email="stays@client-co.com"), new_lead(bob, email="went@client-co.com")
    merge_id = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]}).json["merge_id"]
    assert deliver(emulator, ingest, alternative("went@client-co.com", [dropbox(tenant.tenant_id)])) == OK
    (row,) = get_mail_store().emails_sent_to(tenant.tenant_id, "went@client-co.com")
    assert linked(bob, survivor) == []  # no live lead had the address

    assert bob.post(f"/leads/{survivor}/merges/{merge_id}/undo").status_code == 200

    assert [email["id"] for email in linked(bob, other)] == [row["id"]]  # as a restore links them


def test_an_undo_of_a_merge_killed_half_way_finishes_it_then_brings_back_every_child(bob, crash):
    survivor = new_lead(bob, email="half1@x.com")
    other = new_lead(bob, email="half2@x.com", company="Half")
    add_children(bob, other, notes=120, tasks=0, emails=0)
    before = (lead_state(bob, survivor), lead_state(bob, other))
    crash(2)  # the claim and the first move commit, then the function dies
    assert bob.post(f"/leads/{survivor}/merge", {"merge_ids": [other]}).status_code == 500
    crash(None)
    (pending,) = bob.get(f"/leads/{survivor}/merges").json["data"]
    assert pending["status"] == "moving"

    undone = bob.post(f"/leads/{survivor}/merges/{pending['merge_id']}/undo")
    assert undone.status_code == 200, undone.json
    assert children_of(bob.tenant_id, survivor) == []
    assert len(children_of(bob.tenant_id, other)) == 120
    assert (lead_state(bob, survivor), lead_state(bob, other)) == before
