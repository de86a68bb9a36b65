"""The recycle bin, as its users rely on it: a deleted lead leaves every list, search, count,
match and child route; the trash lists deletions newest first (a user's own, an admin's all);
a restore brings the lead back with its notes, tasks, email links and counts; an admin removes
a lead for good at once; TTL's removal of a trashed lead takes its children (through the stream's
worker, with the records DynamoDB makes)."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.emulator import Emulator
from devstack.event_filter import passes
from devstack.runtime import LambdaFunction
from devstack.seed import dropbox_address as dropbox
from devstack.stream_poller import StreamReader
from leads_shared.data import get_directory_store, get_lead_store, get_mail_store
from leads_shared.keys import LeadKeys, TrashKeys
from tests.support.clients import Caller, Tenant, lead_body
from tests.support.csv_files import ImportPath, csv_bytes
from tests.support.mail import OK, alternative, deliver, linked

PERMANENT = {"permanent": "true"}
EMAIL = {
    "subject": "Proposal",
    "body": "Attached.",
    "direction": "outbound",
    "sent_at": "2026-01-02T03:04:05Z",
}
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def new_lead(caller: Caller, **fields: Any) -> int:
    response = caller.post("/leads", lead_body(**fields))
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def with_children(caller: Caller, lead: int) -> dict[str, Any]:
    """A note, a task and a logged email on the lead; what its routes answer for them."""
    assert caller.post(f"/leads/{lead}/notes", {"content": "Called: wants a demo."}).status_code == 201
    assert (
        caller.post(f"/leads/{lead}/tasks", {"title": "Send the deck", "assigned_to": 2}).status_code == 201
    )
    assert caller.post(f"/leads/{lead}/linked-emails", EMAIL).status_code == 201
    return children(caller, lead)


def children(caller: Caller, lead: int) -> dict[str, Any]:
    return {kind: caller.get(f"/leads/{lead}/{kind}").json for kind in ("notes", "tasks", "linked-emails")}


def counts(caller: Caller) -> tuple[int, int, int, int]:
    """total, the `contacted` status's, user 2's, and the search for "trashcan"."""
    return (
        caller.get("/leads").json["total"],
        caller.get("/leads", query={"status": "contacted"}).json["total"],
        caller.get("/leads", query={"assigned_to": 2}).json["total"],
        caller.get("/leads", query={"search": "trashcan"}).json["total"],
    )


def partition(tenant_id: str, lead: int) -> list[str]:
    """The sort keys of every item of the lead's partition, by a Scan of the whole table."""
    store = get_lead_store()
    request: dict[str, Any] = {
        "TableName": store.table,
        "FilterExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": LeadKeys.pk(tenant_id, lead)}},
    }
    found: list[str] = []
    while True:
        page = store.client.scan(**request)
        found += [item["SK"]["S"] for item in page["Items"]]
        if not page.get("LastEvaluatedKey"):
            return sorted(found)
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def trash_ids(caller: Caller, **query: Any) -> list[int]:
    response = caller.get("/leads/trash", query=query)
    assert response.status_code == 200, response.json
    return [lead["id"] for lead in response.json["data"]]


def test_a_deleted_lead_leaves_every_list_search_count_match_and_child_route(
    alice: Caller, bob: Caller
) -> None:
    lead = new_lead(bob, last_name="Trashcan", email="gone@trash.example", status="contacted", assigned_to=2)
    kept = new_lead(bob, last_name="Keeper")
    with_children(bob, lead)
    assert counts(bob) == (2, 1, 1, 1)

    response = bob.delete(f"/leads/{lead}")

    assert response.status_code == 200 and response.json == {"success": True}
    assert counts(bob) == (1, 0, 0, 0)
    assert [row["id"] for row in bob.get("/leads", query={"sort_by": "created_at"}).json["data"]] == [kept]
    assert [row["id"] for row in bob.get("/leads", query={"sort_by": "email"}).json["data"]] == [kept]
    match = bob.get("/leads/match-contact", query={"email": "GONE@trash.example"}).json["data"]
    assert match == []
    for method, path, body in [
        ("GET", "", None),
        ("PUT", "", lead_body(first_name="Back")),
        ("DELETE", "", None),
        ("GET", "/notes", None),
        ("POST", "/notes", {"content": "hi"}),
        ("DELETE", "/notes/1", None),
        ("GET", "/tasks", None),
        ("POST", "/tasks", {"title": "Call"}),
        ("PUT", "/tasks/1", {"title": "Call back"}),
        ("DELETE", "/tasks/1", None),
        ("GET", "/linked-emails", None),
        ("POST", "/linked-emails", EMAIL),
        ("GET", "/linked-emails/1", None),
        ("DELETE", "/linked-emails/1", None),
        ("POST", "/qualify", {}),
        ("PUT", "/disqualify", {"reason": "No budget"}),
    ]:
        answer = alice.request(method, f"/leads/{lead}{path}", json_body=body)
        assert answer.status_code == 404, (method, path, answer.json)
        assert set(answer.json) == {"message"}
    # nothing of it was changed meanwhile: its children are all still there
    assert alice.post(f"/leads/{lead}/restore").status_code == 200
    assert children(bob, lead)["notes"]["data"][0]["content"] == "Called: wants a demo."


def test_restore_brings_back_the_lead_its_children_counts_and_search(alice: Caller, bob: Caller) -> None:
    lead = new_lead(bob, last_name="Trashcan", email="back@trash.example", status="contacted", assigned_to=2)
    new_lead(bob)
    before = with_children(bob, lead)
    shown = bob.get(f"/leads/{lead}")
    assert bob.delete(f"/leads/{lead}").status_code == 200
    assert counts(bob) == (1, 0, 0, 0)

    restored = bob.post(f"/leads/{lead}/restore")

    assert restored.status_code == 200, restored.json
    assert restored.headers["ETag"] == '"2"'  # a new version: a stale If-Match is refused
    same = {key: value for key, value in restored.json.items() if key != "updated_at"}
    assert same == {k: v for k, v in shown.json.items() if k not in ("updated_at", "lead_notes")}
    assert bob.get(f"/leads/{lead}").headers["ETag"] == '"2"'
    assert children(bob, lead) == before
    assert counts(bob) == (2, 1, 1, 1)
    assert bob.get("/leads/match-contact", query={"email": "back@trash.example"}).json["data"] != []
    assert bob.get("/leads/trash").json["data"] == []
    assert bob.post(f"/leads/{lead}/restore").status_code == 404  # live: not in the trash
    assert partition(bob.tenant_id, lead).count(TrashKeys.SK) == 0
    # and it goes to the trash and back again
    assert bob.delete(f"/leads/{lead}", headers={"If-Match": '"2"'}).status_code == 200
    assert alice.post(f"/leads/{lead}/restore").json["id"] == lead
    assert counts(bob) == (2, 1, 1, 1)


def test_a_restored_lead_shows_its_assignees_name_as_it_is_now(tenant: Tenant, bob: Caller) -> None:
    """A rename reaches the leads assigned to the user (the stream's sync), not those in the trash."""
    lead = new_lead(bob, assigned_to=2)
    assert bob.delete(f"/leads/{lead}").status_code == 200
    store = get_directory_store()
    user = store.user(tenant.tenant_id, 2)
    assert user is not None
    store.put_user(user.model_copy(update={"name": "Robert Baker"}))

    restored = bob.post(f"/leads/{lead}/restore").json

    assert (restored["assigned_to"], restored["assigned_to_name"]) == (2, "Robert Baker")
    assert bob.get("/leads", query={"sort_by": "assigned_to_name"}).json["data"][0]["assigned_to_name"] == (
        "Robert Baker"
    )


def test_the_trash_lists_newest_first_by_cursor_a_users_own_deletions_an_admins_all(
    tenant: Tenant, alice: Caller, bob: Caller
) -> None:
    carol = tenant.as_user(3)
    bobs = [new_lead(alice, first_name=f"Bob{i}") for i in range(5)]
    carols = [new_lead(alice, first_name=f"Carol{i}") for i in range(2)]
    for lead in bobs:
        assert bob.delete(f"/leads/{lead}").status_code == 200
    for lead in carols:
        assert carol.delete(f"/leads/{lead}").status_code == 200

    first = bob.get("/leads/trash", query={"limit": 2})
    assert first.status_code == 200
    pages, cursor = [[lead["id"] for lead in first.json["data"]]], first.json["next_cursor"]
    while cursor:
        page = bob.get("/leads/trash", query={"limit": 2, "cursor": cursor}).json
        pages.append([lead["id"] for lead in page["data"]])
        cursor = page["next_cursor"]
    assert pages == [bobs[4:2:-1], bobs[2:0:-1], bobs[:1]]
    assert trash_ids(carol) == carols[::-1]
    assert trash_ids(alice) == [*carols[::-1], *bobs[::-1]]
    listed = first.json["data"][0]
    assert listed["first_name"] == "Bob4" and listed["deleted_by"] == 2
    assert listed["deleted_at"] < listed["restorable_until"]
    assert not {"PK", "SK", "GSI1PK", "expires_at", "tenant_id", "version"} & set(listed)
    # a cursor is the caller's: another user's is a 422 naming it
    refused = carol.get("/leads/trash", query={"limit": 2, "cursor": first.json["next_cursor"]})
    assert refused.status_code == 422 and "cursor" in refused.json["errors"]
    assert bob.get("/leads/trash", query={"limit": 0}).status_code == 422


def test_only_the_deleter_or_an_admin_restores(tenant: Tenant, alice: Caller, bob: Caller) -> None:
    carol = tenant.as_user(3)
    lead = new_lead(bob)
    assert bob.delete(f"/leads/{lead}").status_code == 200

    refused = carol.post(f"/leads/{lead}/restore")

    assert refused.status_code == 404 and set(refused.json) == {"message"}
    assert bob.post(f"/leads/{lead}/restore").status_code == 200
    assert carol.delete(f"/leads/{lead}").status_code == 200
    assert alice.post(f"/leads/{lead}/restore").status_code == 200


def test_another_tenants_id_is_a_404_everywhere(alice: Caller, other_tenant: Tenant) -> None:
    intruder = other_tenant.as_user(1)
    lead = new_lead(alice)
    assert alice.delete(f"/leads/{lead}").status_code == 200
    assert trash_ids(intruder) == []
    assert intruder.post(f"/leads/{lead}/restore").status_code == 404
    assert intruder.delete(f"/leads/{lead}", query=PERMANENT).status_code == 404
    assert alice.post(f"/leads/{lead}/restore").status_code == 200
    assert intruder.delete(f"/leads/{lead}").status_code == 404
    assert intruder.delete(f"/leads/{lead}", query=PERMANENT).status_code == 404
    assert alice.get(f"/leads/{lead}").status_code == 200


def test_an_admin_removes_a_live_or_a_trashed_lead_for_good_a_user_may_not(
    alice: Caller, bob: Caller
) -> None:
    live, trashed = new_lead(bob, status="contacted", assigned_to=2), new_lead(bob, assigned_to=2)
    for lead in (live, trashed):
        with_children(bob, lead)
    assert bob.delete(f"/leads/{trashed}").status_code == 200

    refused = bob.delete(f"/leads/{live}", query=PERMANENT)

    assert refused.status_code == 403 and set(refused.json) == {"message"}
    assert bob.delete(f"/leads/{trashed}", query=PERMANENT).status_code == 403
    assert alice.delete(f"/leads/{live}", query=PERMANENT).status_code == 200
    assert alice.delete(f"/leads/{trashed}", query=PERMANENT).status_code == 200
    assert partition(bob.tenant_id, live) == [] and partition(bob.tenant_id, trashed) == []
    assert counts(bob) == (0, 0, 0, 0)
    assert trash_ids(alice) == []
    assert alice.post(f"/leads/{trashed}/restore").status_code == 404
    assert alice.delete(f"/leads/{trashed}", query=PERMANENT).status_code == 404
    assert bob.delete(f"/leads/{live}", query={"permanent": "maybe"}).status_code == 422


def test_a_permanent_delete_honours_if_match_on_a_live_lead(alice: Caller) -> None:
    lead = new_lead(alice)
    stale = alice.delete(f"/leads/{lead}", query=PERMANENT, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert alice.delete(f"/leads/{lead}", query=PERMANENT, headers={"If-Match": '"1"'}).status_code == 200


def test_an_email_captured_while_the_lead_was_in_the_trash_is_linked_when_it_is_restored(
    emulator: Emulator, ingest: LambdaFunction, tenant: Tenant, bob: Caller
) -> None:
    lead = new_lead(bob, email="away@client-co.com")
    assert bob.delete(f"/leads/{lead}").status_code == 200
    assert deliver(emulator, ingest, alternative("away@client-co.com", [dropbox(tenant.tenant_id)])) == OK
    (row,) = get_mail_store().emails_sent_to(tenant.tenant_id, "away@client-co.com")
    assert get_mail_store().email(tenant.tenant_id, row["id"]).matched is False  # no live lead had it

    assert bob.post(f"/leads/{lead}/restore").status_code == 200

    assert [email["id"] for email in linked(bob, lead)] == [row["id"]]


@pytest.fixture(scope="module")
def import_path(emulator: Emulator) -> ImportPath:
    path = ImportPath(emulator)
    path.purge()
    return path


def test_an_import_neither_updates_nor_skips_for_a_trashed_lead(
    alice: Caller, import_path: ImportPath
) -> None:
    """Its email belongs to no live lead: an update-mode import makes a new lead of the row."""
    lead = new_lead(alice, first_name="Trashed", email="twice@client-co.com")
    assert alice.delete(f"/leads/{lead}").status_code == 200
    started = alice.post("/leads/import", {"mode": "update"}).json
    row = {"first_name": "Imported", "last_name": "Row", "email": "TWICE@client-co.com"}
    assert import_path.upload(started, csv_bytes([row])).status_code < 300
    assert import_path.drain() == 1

    job = alice.get(f"/leads/imports/{started['import_id']}").json

    assert (job["status"], job["created"], job["updated"], job["skipped"]) == ("completed", 1, 0, 0)
    assert alice.post(f"/leads/{lead}/restore").json["first_name"] == "Trashed"
    assert alice.get("/leads").json["total"] == 2


# ------------------------------------------------------------------ TTL, through the stream
FUNCTION = "DirectorySyncFunction"


@pytest.fixture
def stream(emulator: Emulator) -> tuple[StreamReader, list[dict[str, Any]], LambdaFunction]:
    (source,) = [source for source in emulator.template.stream_sources() if source.function_id == FUNCTION]
    reader = StreamReader(emulator, source.table_id)  # LATEST: from here on
    return reader, source.filter_patterns, LambdaFunction(emulator.template.function(FUNCTION))


def as_ttl(record: dict[str, Any]) -> dict[str, Any]:
    """A record as DynamoDB's TTL makes it (the emulator knows no TTL: its REMOVE has no identity)."""
    return {**record, "userIdentity": TTL_IDENTITY}


def test_ttl_removing_a_trashed_lead_takes_its_children_and_nothing_else(
    tenant: Tenant,
    alice: Caller,
    bob: Caller,
    stream: tuple[StreamReader, list[dict[str, Any]], LambdaFunction],
) -> None:
    reader, patterns, function = stream
    expired, restored, neighbour = new_lead(bob), new_lead(bob), new_lead(bob)
    for lead in (expired, restored, neighbour):
        with_children(bob, lead)
    logged = children(bob, expired)["linked-emails"]["data"][0]["id"]
    for lead in (expired, restored):
        assert bob.delete(f"/leads/{lead}").status_code == 200
    assert bob.post(f"/leads/{restored}/restore").status_code == 200
    store = get_lead_store()
    store.client.delete_item(
        TableName=store.table,
        Key={k: {"S": v} for k, v in TrashKeys.primary(tenant.tenant_id, expired).items()},
    )

    records = reader.read()
    removes = [record for record in records if record["eventName"] == "REMOVE"]
    # the API's own removals (the trashed item of the restored lead) carry no TTL identity
    assert not [record for record in records if passes(patterns, record)]
    # both trashed items' REMOVEs, as TTL's: the restored lead's stands for a replayed or
    # misattributed record, which must leave a partition holding a lead again alone
    delivered = [
        as_ttl(record) for record in removes if record["dynamodb"]["Keys"]["SK"]["S"] == TrashKeys.SK
    ]
    assert [passes(patterns, record) for record in delivered] == [True, True]
    assert function.invoke({"Records": delivered}) is None

    assert partition(tenant.tenant_id, expired) == []
    email = store.client.get_item(
        TableName=store.table,
        Key={"PK": {"S": f"TENANT#{tenant.tenant_id}#MAIL#{logged}"}, "SK": {"S": "MAIL"}},
    )
    assert "Item" not in email  # the email logged on it went with it
    for lead in (restored, neighbour):  # a restored lead's partition is left alone
        assert children(bob, lead)["notes"]["data"] != []
        assert len(children(bob, lead)["tasks"]["data"]) == 1
    assert function.invoke({"Records": delivered}) is None  # a redelivery: nothing left to do
