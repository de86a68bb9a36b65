"""Erasure on request (GDPR Art. 17), as the tenant's admin and the person asking rely on it:
after ``POST /privacy/erasure`` no value of the address is left anywhere in the table or in the
bucket (a Scan and every object version read back), in any case, while another tenant's lead with
the same address is untouched; leads with it (live and in the recycle bin), its contact, the
emails captured with it and the form submissions with it are gone, other leads' history keeps the
change without the value, counters follow; a dry run writes nothing; only admins; the receipt
holds no address; a retry with the same key finishes what a crash left."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest

from devstack.emulator import Emulator
from devstack.runtime import LambdaFunction
from devstack.seed import dropbox_address as dropbox
from leads_shared.config import get_settings
from leads_shared.data import get_blob_store, get_lead_store
from leads_shared.data.dynamo import meter
from leads_shared.data.erasure_store import ErasureStore
from leads_shared.data.lead_store import CHILDREN_IN_DELETE, LeadStore
from leads_shared.errors import StoreFailure
from leads_shared.keys import LeadKeys
from tests.integration.test_lead_forms import make_form, person, post_json
from tests.support.clients import Caller, Tenant, lead_body
from tests.support.mail import OK, alternative, deliver, linked

EMAIL = {
    "subject": "Call recap",
    "body": "Trial starts Monday.",
    "direction": "outbound",
    "sent_at": "2026-01-02T03:04:05Z",
}


def address() -> str:
    return f"Jane.Roe.{uuid.uuid4().hex[:8]}@Example.com"


def new_lead(caller: Caller, **fields: Any) -> int:
    response = caller.post("/leads", lead_body(**fields))
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def crash(*args: Any) -> None:
    """A store call that fails (patched in for one)."""
    raise StoreFailure("injected")


def table_items() -> list[dict[str, Any]]:
    store = get_lead_store()
    request: dict[str, Any] = {"TableName": store.table}
    found: list[dict[str, Any]] = []
    while True:
        page = store.client.scan(**request)
        found += page["Items"]
        if not page.get("LastEvaluatedKey"):
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def holding(text: str, tenant_id: str) -> list[str]:
    """The keys of the items of the tenant (or of no tenant) that hold ``text``, any case, in any
    attribute: a Scan of the whole table."""
    needle, own = text.casefold(), f"TENANT#{tenant_id}"
    return [
        f"{item['PK']['S']} {item['SK']['S']}"
        for item in table_items()
        if needle in json.dumps(item).casefold()
        and (
            item["PK"]["S"] in (own,)
            or item["PK"]["S"].startswith((f"{own}#",))
            or not item["PK"]["S"].startswith("TENANT#")
        )
    ]


def objects_holding(emulator: Emulator, text: str) -> list[str]:
    """Every version of every object of the bucket whose bytes hold ``text``, any case."""
    s3 = emulator.client("s3")
    bucket = get_settings().bucket_name
    found = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"]
            if text.casefold().encode() in body.read().lower():
                found.append(version["Key"])
    return found


@pytest.fixture
def world(emulator: Emulator, ingest: LambdaFunction, tenant: Tenant, alice: Caller) -> dict[str, Any]:
    """The address in every place the tenant keeps one, and a bystander lead that shares an
    email with it."""
    email = address()
    lower = email.lower()
    live = new_lead(alice, email=email, first_name="Jane", last_name="Roe", company="Roe Ltd")
    assert alice.post(f"/leads/{live}/notes", {"content": "Called."}).status_code == 201
    assert alice.post(f"/leads/{live}/tasks", {"title": "Send the deck"}).status_code == 201
    assert alice.post(f"/leads/{live}/linked-emails", EMAIL).status_code == 201
    assert (
        alice.put(f"/leads/{live}", lead_body(email=email, first_name="Janet", last_name="Roe")).status_code
        == 200
    )
    trashed = new_lead(alice, email=lower.upper())
    assert alice.delete(f"/leads/{trashed}").status_code == 200
    moved = new_lead(alice, email=lower, first_name="Moved", last_name="Away")
    assert alice.post(f"/leads/{moved}/linked-emails", EMAIL).status_code == 201  # to its address
    assert (
        alice.put(f"/leads/{moved}", lead_body(email="moved@else.example", first_name="Moved")).status_code
        == 200
    )
    qualified = new_lead(alice, email=email, first_name="Quinn")
    assert alice.post(f"/leads/{qualified}/qualify", {}).status_code == 200
    bystander = new_lead(alice, email="carl@other.example", first_name="Carl")
    raw = alternative(email, ["carl@other.example", dropbox(tenant.tenant_id)], subject="Budget")
    assert deliver(emulator, ingest, raw) == OK
    assert len(linked(alice, bystander)) == 1 and len(linked(alice, live)) == 2
    form = make_form(alice, always_create=True)
    assert post_json(alice.gateway, form["public_key"], person(alice, form, email=email)).status_code == 201
    return {
        "email": email,
        "live": live,
        "trashed": trashed,
        "moved": moved,
        "qualified": qualified,
        "bystander": bystander,
        "form": form,
    }


def test_erasure_leaves_no_value_of_the_address_anywhere(
    emulator: Emulator, tenant: Tenant, other_tenant: Tenant, alice: Caller, world: dict[str, Any]
) -> None:
    email = world["email"]
    theirs = other_tenant.as_user(1)
    kept = new_lead(theirs, email=email)
    assert holding(email, tenant.tenant_id) and objects_holding(emulator, email)
    total = alice.get("/leads").json["total"]
    new = alice.get("/leads", query={"status": "new"}).json["total"]

    response = alice.post("/privacy/erasure", {"email": email.upper()})

    assert response.status_code == 200, response.json
    receipt = response.json
    assert receipt["status"] == "done" and receipt["erasure_id"]
    created_by_form = receipt["erased"]["leads"][-1]
    assert receipt["erased"]["leads"] == sorted([world["live"], world["qualified"], created_by_form])
    assert receipt["erased"]["trashed_leads"] == [world["trashed"]]
    assert receipt["counts"] == {
        "leads": 3,
        "trashed_leads": 1,
        "contacts": 1,
        "emails": 2,  # the captured one, and the one logged on the moved lead
        "form_submissions": 1,
        "history_entries_redacted": 2,  # the moved lead's creation and its change of email
        "merged_leads": 0,
        "merges_redacted": 0,
    }
    assert holding(email, tenant.tenant_id) == []
    assert objects_holding(emulator, email) == []
    assert alice.get("/leads").json["total"] == total - 3
    assert alice.get("/leads", query={"status": "new"}).json["total"] == new - 2  # and 1 qualified
    for lead in (world["live"], world["qualified"], created_by_form):
        assert alice.get(f"/leads/{lead}").status_code == 404
    assert [row["id"] for row in alice.get("/leads/trash").json["data"]] == []
    # The bystander stays, without the email it shared; the moved lead keeps its history's shape.
    assert alice.get(f"/leads/{world['bystander']}").status_code == 200
    assert linked(alice, world["bystander"]) == []
    assert linked(alice, world["moved"]) == []
    history = alice.get(f"/leads/{world['moved']}/history", query={"field": "email"}).json["data"]
    email_changes = [next(c for c in entry["changes"] if c["field"] == "email") for entry in history]
    assert [(change["old"], change["new"]) for change in email_changes] == [
        ("[erased]", "moved@else.example"),
        (None, "[erased]"),
    ]
    # Another tenant's lead with the same address is untouched.
    assert theirs.get(f"/leads/{kept}").json["email"] == email


def test_a_dry_run_lists_what_would_go_and_writes_nothing(alice: Caller, world: dict[str, Any]) -> None:
    before = sorted(json.dumps(item, sort_keys=True) for item in table_items())
    meter.reset()

    response = alice.post("/privacy/erasure", {"email": world["email"], "dry_run": True})
    # Reads only: one Query each of the address's LOOKUP, PAST, MAILTO and SUBMITTED partitions
    # and of the tenant's trash, one of the partition of the lead whose email changed from it,
    # and one of the merge records of each lead that goes (3 live, 1 in the recycle bin).
    assert meter.snapshot()["by_operation"] == {"Query": 10}

    assert response.status_code == 200, response.json
    assert response.json["status"] == "dry_run" and response.json["erasure_id"] is None
    assert response.json["counts"]["leads"] == 3 and response.json["counts"]["trashed_leads"] == 1
    assert sorted(json.dumps(item, sort_keys=True) for item in table_items()) == before
    assert alice.get("/privacy/erasures").json["data"] == []


def test_only_admins_erase_and_the_address_must_be_one(alice: Caller, bob: Caller) -> None:
    assert bob.post("/privacy/erasure", {"email": "jane@roe.example"}).status_code == 403
    assert bob.get("/privacy/erasures").status_code == 403
    bad = alice.post("/privacy/erasure", {"email": "not an address"})
    assert bad.status_code == 422 and "email" in bad.json["errors"]
    assert alice.post("/privacy/erasure", {"email": "jane@roe.example", "dry_run": "yes"}).status_code == 422


def test_nothing_found_is_a_receipt_of_zero_counts_kept_without_the_address(alice: Caller) -> None:
    email = address()
    response = alice.post("/privacy/erasure", {"email": email})

    assert response.status_code == 200
    assert set(response.json["counts"].values()) == {0}
    listed = alice.get("/privacy/erasures").json
    assert [r["erasure_id"] for r in listed["data"]] == [response.json["erasure_id"]]
    assert listed["data"][0]["requested_by"] == {"id": 1, "name": "Alice Admin"}
    assert email.lower() not in json.dumps(listed).lower()


def test_the_receipts_list_newest_first_by_cursor(alice: Caller, other_tenant: Tenant) -> None:
    ids = [alice.post("/privacy/erasure", {"email": address()}).json["erasure_id"] for _ in range(3)]

    first = alice.get("/privacy/erasures", query={"limit": 2}).json
    second = alice.get("/privacy/erasures", query={"limit": 2, "cursor": first["next_cursor"]}).json

    assert [r["erasure_id"] for r in first["data"] + second["data"]] == ids[::-1]
    assert second["next_cursor"] is None
    assert alice.get("/privacy/erasures", query={"cursor": "not.signed"}).status_code == 422
    assert other_tenant.as_user(1).get("/privacy/erasures").json["data"] == []


def test_a_retry_with_the_same_key_finishes_what_a_crash_left(
    monkeypatch: pytest.MonkeyPatch, tenant: Tenant, alice: Caller, world: dict[str, Any]
) -> None:
    email = world["email"]
    key = {"Idempotency-Key": f"erase-{uuid.uuid4().hex}"}
    real = ErasureStore.remove_contact

    monkeypatch.setattr(ErasureStore, "remove_contact", crash)
    assert alice.post("/privacy/erasure", {"email": email}, headers=key).status_code >= 500
    monkeypatch.setattr(ErasureStore, "remove_contact", real)
    stopped = alice.get("/privacy/erasures").json["data"]
    assert [r["status"] for r in stopped] == ["in_progress"]

    retried = alice.post("/privacy/erasure", {"email": email}, headers=key)
    again = alice.post("/privacy/erasure", {"email": email}, headers=key)

    assert retried.status_code == 200 and retried.json["status"] == "done"
    assert retried.json["erasure_id"] == stopped[0]["erasure_id"]
    assert retried.json["counts"]["leads"] == 3 and retried.json["counts"]["emails"] == 2
    assert again.json == retried.json
    assert holding(email, tenant.tenant_id) == []


def test_a_retry_with_the_same_key_removes_what_a_lead_removed_half_way_left(
    monkeypatch: pytest.MonkeyPatch, alice: Caller
) -> None:
    """A lead of more children than its removal's transaction holds: the transaction takes the
    lead item (what finds it by its address), the rest follow in batches; a crash between leaves
    children no index names, which the receipt's ids bring the retry back to."""
    email = address()
    lead = new_lead(alice, email=email)
    for number in range(CHILDREN_IN_DELETE + 5):
        assert alice.post(f"/leads/{lead}/notes", {"content": f"Note {number}"}).status_code == 201
    key = {"Idempotency-Key": f"erase-{uuid.uuid4().hex}"}

    with monkeypatch.context() as patched:
        patched.setattr(LeadStore, "batch_delete", crash)
        assert alice.post("/privacy/erasure", {"email": email}, headers=key).status_code >= 500
    left = partition_keys(alice.tenant_id, lead)
    assert "LEAD" not in left and len(left) > 0  # found by no index now

    retried = alice.post("/privacy/erasure", {"email": email}, headers=key)

    assert retried.status_code == 200 and retried.json["erased"]["leads"] == [lead]
    assert partition_keys(alice.tenant_id, lead) == []


def partition_keys(tenant_id: str, lead: int) -> list[str]:
    store = get_lead_store()
    response = store.client.query(
        TableName=store.table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": LeadKeys.pk(tenant_id, lead)}},
        ConsistentRead=True,
    )
    return [item["SK"]["S"] for item in response["Items"]]


def merge(caller: Caller, survivor: int, others: list[int], **fields: int) -> str:
    response = caller.post(f"/leads/{survivor}/merge", {"merge_ids": others, "fields": fields})
    assert response.status_code == 200, response.json
    return str(response.json["merge_id"])


def test_erasure_reaches_what_merges_keep(tenant: Tenant, other_tenant: Tenant, alice: Caller) -> None:
    """After merges, the address lives where no LOOKUP names it: a merged-away lead's item (and
    its history), the survivor's merge record (its copies of the leads' values), the emails that
    moved with the merged lead, a survivor whose email the merge changed away from the address.
    The erasure takes the leads that were the person's (merged-away or merged into an erased
    lead), blanks the address out of the rest, and the merges it touched cannot be undone."""
    email = address()
    # A (the address) merged into B (another address): A's item, its email logged, its copy.
    a = new_lead(alice, email=email.upper(), first_name="Ann", phone="+15550100001")
    assert alice.post(f"/leads/{a}/notes", {"content": "Met at the fair."}).status_code == 201
    assert alice.post(f"/leads/{a}/linked-emails", EMAIL).status_code == 201  # to its address
    b = new_lead(alice, email="bee@else.example", first_name="Bea")
    b_merge = merge(alice, b, [a])
    # C (another address) merged into D (the address): D is the person's, C went into it.
    c = new_lead(alice, email="cee@else.example", first_name="Cy", phone="+15550100003")
    d = new_lead(alice, email=email, first_name="Di")
    merge(alice, d, [c], phone=c)
    # E had the address; its merge took F's email: E's history and record hold the address.
    e = new_lead(alice, email=email.lower(), first_name="Ed")
    f = new_lead(alice, email="eff@else.example", first_name="Flo")
    e_merge = merge(alice, e, [f], email=f)
    assert alice.get(f"/leads/{e}").json["email"] == "eff@else.example"
    theirs = other_tenant.as_user(1)
    kept = new_lead(theirs, email=email)
    assert holding(email, tenant.tenant_id)
    total = alice.get("/leads").json["total"]

    response = alice.post("/privacy/erasure", {"email": email})

    assert response.status_code == 200, response.json
    erased = response.json["erased"]
    assert erased["leads"] == [d]
    assert erased["merged_leads"] == sorted([a, c])
    assert sorted((r["survivor_id"], r["merge_id"]) for r in erased["merges_redacted"]) == sorted(
        [(b, b_merge), (e, e_merge)]
    )
    assert response.json["counts"]["merged_leads"] == 2
    assert response.json["counts"]["merges_redacted"] == 2
    assert response.json["counts"]["emails"] == 1  # the one logged on A, moved to B
    # Nothing of the tenant holds the address, in any case; the other tenant's lead is untouched.
    assert holding(email, tenant.tenant_id) == []
    assert theirs.get(f"/leads/{kept}").json["email"] == email
    assert alice.get("/leads").json["total"] == total - 1  # D; A, C and F were merged already
    # The leads that were the person's are gone (no merged_into left to follow).
    for lead in (a, c, d):
        gone = alice.get(f"/leads/{lead}")
        assert gone.status_code == 404 and "merged_into" not in gone.json
    # B and E stay, with what the merges gave them (A's note stays with B: free text, kept).
    assert alice.get(f"/leads/{b}").json["email"] == "bee@else.example"
    assert [n["content"] for n in alice.get(f"/leads/{b}/notes").json["data"]] == ["Met at the fair."]
    assert linked(alice, b) == []
    assert alice.get(f"/leads/{e}").json["email"] == "eff@else.example"
    history = alice.get(f"/leads/{e}/history", query={"field": "email"}).json["data"]
    assert [(c["old"], c["new"]) for h in history for c in h["changes"] if c["field"] == "email"] == [
        ("[erased]", "eff@else.example"),
        (None, "[erased]"),
    ]
    # A merge whose record lost the address cannot be undone: it would bring it back.
    for survivor, merge_id in ((b, b_merge), (e, e_merge)):
        undo = alice.post(f"/leads/{survivor}/merges/{merge_id}/undo", {})
        assert undo.status_code == 409, undo.json
        assert "erasure" in undo.json["message"]
        listed = alice.get(f"/leads/{survivor}/merges").json["data"]
        assert [m["erased_at"] is not None for m in listed] == [True]


def test_erasure_follows_a_merged_lead_along_its_survivors_and_resumes_after_a_crash(
    monkeypatch: pytest.MonkeyPatch, tenant: Tenant, alice: Caller
) -> None:
    """A (the address, an email logged to it) merged into B, B merged into G: A's email moved
    on to G. The erasure follows the chain; a crash before the merged lead goes is finished by
    the retry with the same key (A's past-email item, what finds it and its survivors, goes
    last)."""
    email = address()
    a = new_lead(alice, email=email, first_name="Ann")
    assert alice.post(f"/leads/{a}/linked-emails", EMAIL).status_code == 201  # to its address
    b = new_lead(alice, email="bee@else.example", first_name="Bea")
    g = new_lead(alice, email="gee@else.example", first_name="Gus")
    b_merge = merge(alice, b, [a])
    merge(alice, g, [b])
    assert len(linked(alice, g)) == 1
    key = {"Idempotency-Key": f"erase-{uuid.uuid4().hex}"}

    with monkeypatch.context() as patched:
        patched.setattr(ErasureStore, "remove_merged_lead", crash)
        assert alice.post("/privacy/erasure", {"email": email}, headers=key).status_code >= 500
    assert holding(email, tenant.tenant_id)  # A is still there, and its past-email item

    retried = alice.post("/privacy/erasure", {"email": email}, headers=key)

    assert retried.status_code == 200, retried.json
    assert retried.json["erased"]["merged_leads"] == [a]
    assert retried.json["erased"]["merges_redacted"] == [{"survivor_id": b, "merge_id": b_merge}]
    assert retried.json["counts"]["emails"] == 1
    assert holding(email, tenant.tenant_id) == []
    assert linked(alice, g) == []
    assert alice.get(f"/leads/{g}").json["email"] == "gee@else.example"
    gone = alice.get(f"/leads/{b}")  # B stays merged into G, its record without the address
    assert gone.status_code == 404 and gone.json["merged_into"] == g


def test_an_address_that_merely_contains_the_erased_one_is_another_persons_and_stays(alice: Caller) -> None:
    """``jane@…`` is not ``mary.jane@…``: a lead whose email changed from the erased address to
    one that ends with it keeps its new value in its history (and its current email)."""
    email = address()
    longer = f"mary.{email.lower()}"
    moved = new_lead(alice, email=email, first_name="Jane")
    assert alice.put(f"/leads/{moved}", lead_body(email=longer, first_name="Jane")).status_code == 200

    response = alice.post("/privacy/erasure", {"email": email})

    assert response.status_code == 200, response.json
    history = alice.get(f"/leads/{moved}/history", query={"field": "email"}).json["data"]
    email_changes = [next(c for c in entry["changes"] if c["field"] == "email") for entry in history]
    assert [(change["old"], change["new"]) for change in email_changes] == [
        ("[erased]", longer),
        (None, "[erased]"),
    ]
    assert alice.get(f"/leads/{moved}").json["email"] == longer


def test_a_retry_without_a_key_finds_an_email_logged_on_a_moved_lead_after_a_crash(
    monkeypatch: pytest.MonkeyPatch, tenant: Tenant, alice: Caller
) -> None:
    """An email logged by hand has no participant item: only its link on the lead finds it. A
    crash between its two deletes must leave the link (what finds it), not the email alone."""
    email = address()
    moved = new_lead(alice, email=email, first_name="Moved")
    assert alice.post(f"/leads/{moved}/linked-emails", EMAIL).status_code == 201  # to its address
    assert (
        alice.put(f"/leads/{moved}", lead_body(email="moved@else.example", first_name="Moved")).status_code
        == 200
    )
    real = ErasureStore._delete_keys
    deletes: list[int] = []

    def second_fails(store: ErasureStore, keys: list[dict[str, str]]) -> None:
        deletes.append(1)
        if len(deletes) == 2:
            raise StoreFailure("injected")
        real(store, keys)

    with monkeypatch.context() as patched:
        patched.setattr(ErasureStore, "_delete_keys", second_fails)
        assert alice.post("/privacy/erasure", {"email": email}).status_code >= 500

    retried = alice.post("/privacy/erasure", {"email": email})

    assert retried.status_code == 200, retried.json
    assert holding(email, tenant.tenant_id) == []


def test_no_hash_of_the_address_is_left_in_a_duplicate_claim(tenant: Tenant, alice: Caller) -> None:
    """A create that refuses duplicates holds the email's match key (its SHA-256) in a claim item,
    which TTL removes only later (DynamoDB's TTL takes up to days): a hash of the address can be
    checked against a list of addresses, so the erasure takes it (as the receipt keeps none)."""
    email = address()
    digest = hashlib.sha256(email.lower().encode()).hexdigest()
    response = alice.post("/leads", lead_body(email=email), query={"on_duplicate": "reject"})
    assert response.status_code == 201, response.json
    assert holding(digest, tenant.tenant_id) != []

    assert alice.post("/privacy/erasure", {"email": email}).status_code == 200

    assert holding(digest, tenant.tenant_id) == []
    assert holding(email, tenant.tenant_id) == []


def test_a_merged_away_lead_whose_email_had_changed_from_the_address_stays_with_its_merge(
    tenant: Tenant, alice: Caller
) -> None:
    """L had the address, then another (its own when merged into S): found through its past
    email, it is kept as a live lead would be (its history redacted), not removed whole while
    S's merge record still offered an undo that then failed ("no longer merged")."""
    email = address()
    moved = new_lead(alice, email=email, first_name="Lou")
    assert alice.post(f"/leads/{moved}/linked-emails", EMAIL).status_code == 201  # to its address
    assert (
        alice.put(f"/leads/{moved}", lead_body(email="lou@else.example", first_name="Lou")).status_code == 200
    )
    survivor = new_lead(alice, email="sue@else.example", first_name="Sue")
    merge_id = merge(alice, survivor, [moved])

    response = alice.post("/privacy/erasure", {"email": email})

    assert response.status_code == 200, response.json
    assert response.json["erased"]["merged_leads"] == []
    assert response.json["counts"]["emails"] == 1  # logged to its address, moved to S
    assert holding(email, tenant.tenant_id) == []
    merged = alice.get(f"/leads/{moved}")
    assert merged.status_code == 404 and merged.json["merged_into"] == survivor
    undo = alice.post(f"/leads/{survivor}/merges/{merge_id}/undo", {})
    assert undo.status_code == 200, undo.json
    assert alice.get(f"/leads/{moved}").json["email"] == "lou@else.example"
    history = alice.get(f"/leads/{moved}/history", query={"field": "email"}).json["data"]
    assert [(c["old"], c["new"]) for h in history for c in h["changes"] if c["field"] == "email"] == [
        ("[erased]", "lou@else.example"),
        (None, "[erased]"),
    ]


class RefusingDeletes:
    """An S3 client whose DeleteObjects deletes nothing and answers each object as an error (as
    S3 does, with status 200, for a version it may not delete)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def delete_objects(self, **request: Any) -> dict[str, Any]:
        objects = request["Delete"]["Objects"]
        return {
            "Errors": [{**found, "Code": "AccessDenied", "Message": "Access Denied"} for found in objects]
        }


def test_a_raw_message_s3_refuses_to_delete_stops_the_erasure_before_its_email_goes(
    monkeypatch: pytest.MonkeyPatch, emulator: Emulator, tenant: Tenant, alice: Caller, world: dict[str, Any]
) -> None:
    """DeleteObjects answers 200 with per-object errors: taken as done, the email item (all that
    names the raw message) went and the message stayed in the bucket, out of any retry's reach."""
    email = world["email"]
    blobs = get_blob_store()
    with monkeypatch.context() as patched:
        patched.setattr(blobs, "_client", RefusingDeletes(blobs.client))
        assert alice.post("/privacy/erasure", {"email": email}).status_code >= 500

    retried = alice.post("/privacy/erasure", {"email": email})

    assert retried.status_code == 200, retried.json
    assert objects_holding(emulator, email) == []
    assert holding(email, tenant.tenant_id) == []
