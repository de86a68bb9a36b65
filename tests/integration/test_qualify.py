"""Qualifying and disqualifying: one transaction (all written or none), one conversion however
many calls race, idempotent retries, and the rules around ids of the tenant."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from leads_shared import qualify
from leads_shared.auth import Principal
from leads_shared.data import dynamo, get_directory_store, get_lead_store, get_record_store
from leads_shared.data.record_store import contact_to_item
from leads_shared.keys import CompanyKeys, ContactKeys, DealKeys, LeadKeys
from leads_shared.models.directory import DealStage
from leads_shared.models.records import Contact, QualifyRequest
from tests.support.clients import lead_body

STAGES = ["Prospecting", "Proposal"]
LEAD = lead_body(phone="+1 555 0100", company="Doe Industries, Inc.", job_title="CTO", assigned_to=3)


@pytest.fixture
def staged(tenant):
    for position, name in enumerate(STAGES, start=1):
        get_directory_store().put_stage(
            DealStage(tenant_id=tenant.tenant_id, id=position * 10, name=name, position=position)
        )
    return tenant


def items_of(tenant_id: str, kind: str) -> list[dict[str, Any]]:
    """Every stored contact/company/deal of a tenant (a Scan: tests only)."""
    store = get_lead_store()
    pages = store.client.get_paginator("scan").paginate(
        TableName=store.table,
        FilterExpression="begins_with(PK, :p) AND SK = :sk",
        ExpressionAttributeValues={":p": {"S": f"TENANT#{tenant_id}#{kind}#"}, ":sk": {"S": kind}},
    )
    return [item for page in pages for item in page["Items"]]


def test_qualify_creates_contact_company_and_deal_and_keeps_their_ids(staged, bob):
    lead = bob.post("/leads", LEAD).json
    response = bob.post(f"/leads/{lead['id']}/qualify", {"create_company": True, "create_deal": True})
    assert response.status_code == 200
    result = response.json
    assert set(result) == {"success", "contact_id", "company_id", "deal_id"} and result["success"] is True

    contact = bob.get(f"/contacts/{result['contact_id']}").json
    assert {k: contact[k] for k in ("first_name", "last_name", "email", "phone", "job_title")} == {
        k: LEAD[k] for k in ("first_name", "last_name", "email", "phone", "job_title")
    }
    assert contact["owner_id"] == 3 and contact["owner_name"] == "Carol Chen"
    assert contact["company_id"] == result["company_id"] and contact["lead_id"] == lead["id"]
    company = bob.get(f"/companies/{result['company_id']}").json
    assert company["name"] == "Doe Industries, Inc." and company["owner_id"] == 3
    deal = bob.get(f"/deals/{result['deal_id']}").json
    assert deal["name"] == "Doe Industries, Inc. deal"
    assert (deal["stage_id"], deal["stage_name"]) == (10, "Prospecting")  # the first stage
    assert deal["contact_id"] == result["contact_id"] and deal["company_id"] == result["company_id"]

    after = bob.get(f"/leads/{lead['id']}").json
    assert after["status"] == "qualified" and after["qualified_at"]
    assert (after["contact_id"], after["company_id"], after["deal_id"]) == (
        result["contact_id"], result["company_id"], result["deal_id"],
    )  # fmt: skip
    assert bob.get("/leads", query={"status": "qualified"}).json["total"] == 1
    assert bob.get("/leads", query={"status": "new"}).json["total"] == 0


def test_qualify_with_nothing_else_creates_only_the_contact(bob):
    lead = bob.post("/leads", lead_body()).json
    result = bob.post(f"/leads/{lead['id']}/qualify").json
    assert result["company_id"] is None and result["deal_id"] is None and result["contact_id"] >= 1
    assert len(items_of(bob.tenant_id, "COMPANY")) == 0 and len(items_of(bob.tenant_id, "DEAL")) == 0


def test_deal_fields(staged, bob):
    lead = bob.post("/leads", lead_body(company=None)).json
    body = {"create_deal": True, "deal_name": "Big one", "deal_value": 1234.5, "deal_stage_id": 20}
    deal_id = bob.post(f"/leads/{lead['id']}/qualify", body).json["deal_id"]
    deal = bob.get(f"/deals/{deal_id}").json
    assert (deal["name"], deal["value"], deal["stage_id"], deal["stage_name"]) == (
        "Big one",
        1234.5,
        20,
        "Proposal",
    )
    other = bob.post("/leads", lead_body(company=None, first_name="Ann", last_name="Lee")).json
    default = bob.post(f"/leads/{other['id']}/qualify", {"create_deal": True}).json
    assert bob.get(f"/deals/{default['deal_id']}").json["name"] == "Ann Lee deal"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"create_deal": True, "deal_value": -1}, "deal_value"),
        ({"create_deal": True, "deal_stage_id": 999}, "deal_stage_id"),
        ({"create_deal": True, "deal_stage_id": "x"}, "deal_stage_id"),
        ({"company_id": 999}, "company_id"),
        ({"contact_id": 999}, "contact_id"),
        ({"create_company": "maybe"}, "create_company"),
    ],
)
def test_invalid_bodies_are_422_and_change_nothing(staged, bob, body, field):
    lead = bob.post("/leads", LEAD).json
    response = bob.post(f"/leads/{lead['id']}/qualify", body)
    assert response.status_code == 422 and field in response.json["errors"]
    assert bob.get(f"/leads/{lead['id']}").json["status"] == "new"
    assert items_of(bob.tenant_id, "CONTACT") == []


def test_create_company_needs_a_company_name(bob):
    lead = bob.post("/leads", lead_body(company=None)).json
    response = bob.post(f"/leads/{lead['id']}/qualify", {"create_company": True})
    assert response.status_code == 422 and "create_company" in response.json["errors"]


def test_link_existing_company_and_contact_instead_of_duplicates(staged, bob, other_tenant):
    first = bob.post("/leads", LEAD).json
    made = bob.post(f"/leads/{first['id']}/qualify", {"create_company": True}).json
    second = bob.post("/leads", LEAD).json
    linked = bob.post(
        f"/leads/{second['id']}/qualify", {"company_id": made["company_id"], "contact_id": made["contact_id"]}
    ).json
    assert (linked["contact_id"], linked["company_id"]) == (made["contact_id"], made["company_id"])
    assert len(items_of(bob.tenant_id, "CONTACT")) == 1 and len(items_of(bob.tenant_id, "COMPANY")) == 1
    # Another tenant's ids are not there for this tenant.
    stranger = other_tenant.as_user(2)
    theirs = stranger.post("/leads", lead_body()).json
    response = stranger.post(f"/leads/{theirs['id']}/qualify", {"company_id": made["company_id"]})
    assert response.status_code == 422 and "company_id" in response.json["errors"]
    assert (
        bob.post(f"/leads/{first['id']}/qualify", {"create_company": True, "company_id": 1}).status_code
        == 409
    )


def test_closed_leads_are_409(bob):
    lead = bob.post("/leads", lead_body()).json
    assert bob.post(f"/leads/{lead['id']}/qualify").status_code == 200
    again = bob.post(f"/leads/{lead['id']}/qualify")
    assert again.status_code == 409 and again.json == {"message": "The lead is already qualified."}
    assert bob.put(f"/leads/{lead['id']}/disqualify", {"reason": "x"}).status_code == 409
    # A converted lead's status stays: it points at its contact.
    assert bob.put(f"/leads/{lead['id']}", lead_body(status="new")).status_code == 409
    other = bob.post("/leads", lead_body()).json
    assert bob.put(f"/leads/{other['id']}/disqualify").status_code == 200
    assert bob.post(f"/leads/{other['id']}/qualify").status_code == 409
    assert len(items_of(bob.tenant_id, "CONTACT")) == 1


def test_unknown_and_foreign_leads_are_404(bob, other_tenant):
    lead = bob.post("/leads", lead_body()).json
    stranger = other_tenant.as_user(1)
    assert stranger.post(f"/leads/{lead['id']}/qualify").status_code == 404
    assert stranger.put(f"/leads/{lead['id']}/disqualify").status_code == 404
    assert bob.post("/leads/999/qualify").status_code == 404
    assert bob.get(f"/leads/{lead['id']}").json["status"] == "new"


def test_disqualify_keeps_reason_and_time(bob):
    lead = bob.post("/leads", lead_body(status="contacted")).json
    response = bob.put(f"/leads/{lead['id']}/disqualify", {"reason": "  No budget.  "})
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'
    body = response.json
    assert body["status"] == "disqualified" and body["disqualified_reason"] == "No budget."
    assert (
        body["disqualified_at"]
        and bob.get(f"/leads/{lead['id']}").json["disqualified_at"] == body["disqualified_at"]
    )
    again = bob.put(f"/leads/{lead['id']}/disqualify", {"reason": "Went with a competitor."}).json
    assert again["disqualified_reason"] == "Went with a competitor."
    assert again["disqualified_at"] == body["disqualified_at"]  # the first time stays
    assert bob.get("/leads", query={"status": "disqualified"}).json["total"] == 1
    assert bob.put(f"/leads/{lead['id']}/disqualify", {"reason": "x" * 1001}).status_code == 422
    reopened = bob.put(f"/leads/{lead['id']}", lead_body(status="new")).json
    assert reopened["disqualified_reason"] is None and reopened["disqualified_at"] is None


# ------------------------------------------------------------------ atomicity and races
class LeadChangesFirst:
    """The real client, except that right before the next qualify transaction another writer
    disqualifies the lead: the transaction's condition on the lead fails."""

    def __init__(self, client: Any, tenant_id: str, lead_id: int) -> None:
        self._client, self.tenant_id, self.lead_id, self.armed = client, tenant_id, lead_id, True

    def transact_write_items(self, **kwargs: Any) -> Any:
        if self.armed and len(kwargs["TransactItems"]) > 2:
            self.armed = False
            self._client.update_item(
                TableName=get_lead_store().table,
                Key={k: {"S": v} for k, v in LeadKeys.primary(self.tenant_id, self.lead_id).items()},
                UpdateExpression="SET #s = :d, version = version + :one",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":d": {"S": "disqualified"}, ":one": {"N": "1"}},
            )
        return self._client.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_transaction_that_fails_part_way_writes_nothing(staged, bob, monkeypatch):
    lead = bob.post("/leads", LEAD).json
    client = LeadChangesFirst(dynamo.dynamodb_client(), bob.tenant_id, lead["id"])
    monkeypatch.setattr(dynamo, "dynamodb_client", lambda: client)
    response = bob.post(f"/leads/{lead['id']}/qualify", {"create_company": True, "create_deal": True})
    assert response.status_code == 409 and not client.armed
    # The contact, company and deal puts were valid, yet none of them was written.
    for kind in ("CONTACT", "COMPANY", "DEAL"):
        assert items_of(bob.tenant_id, kind) == []
    assert bob.get(f"/leads/{lead['id']}").json["contact_id"] is None


def test_a_taken_id_fails_the_whole_transaction_and_new_ids_are_taken(staged, bob):
    lead = bob.post("/leads", LEAD).json
    # The sequence is behind the data: contact 1 exists already (e.g. restored from a backup).
    when = "2026-01-01T00:00:00.000000Z"
    decoy = Contact(
        tenant_id=bob.tenant_id, id=1, first_name="Old", last_name="Contact", created_at=when, updated_at=when
    )
    store = get_lead_store()
    store.client.put_item(TableName=store.table, Item=contact_to_item(decoy))
    result = bob.post(f"/leads/{lead['id']}/qualify", {"create_company": True, "create_deal": True}).json
    assert result["contact_id"] == 2
    # The first attempt's company 1 and deal 1 were never written: it failed as a whole.
    assert store.get_values(CompanyKeys.primary(bob.tenant_id, 1)) is None
    assert store.get_values(DealKeys.primary(bob.tenant_id, 1)) is None
    assert (result["company_id"], result["deal_id"]) == (2, 2)
    assert store.get_values(ContactKeys.primary(bob.tenant_id, 1))["first_name"] == "Old"


class AllReadBeforeAnyWrite:
    """The real client, except that each thread's first transaction waits until every thread
    has reached its own: all of them read the lead as open, then all of them try to convert it
    (the worst interleaving, made certain rather than hoped for)."""

    def __init__(self, client: Any, parties: int) -> None:
        self._client = client
        self.barrier = threading.Barrier(parties, timeout=60)
        self.waited: set[int] = set()
        self.transactions = 0
        self.lock = threading.Lock()

    def transact_write_items(self, **kwargs: Any) -> Any:
        if threading.get_ident() not in self.waited:
            self.waited.add(threading.get_ident())
            self.barrier.wait()
        with self.lock:
            self.transactions += 1
        return self._client.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_twenty_concurrent_qualifies_make_exactly_one_contact(staged, bob, monkeypatch):
    lead = bob.post("/leads", LEAD).json
    client = AllReadBeforeAnyWrite(dynamo.dynamodb_client(), 20)
    monkeypatch.setattr(dynamo, "dynamodb_client", lambda: client)
    principal = Principal(user_id=2, tenant_id=bob.tenant_id)
    outcomes: list[str] = []

    def call() -> None:
        try:
            qualify.qualify_lead(
                principal, lead["id"], QualifyRequest(create_company=True, create_deal=True),
                get_lead_store(), get_record_store(), get_directory_store(),
            )  # fmt: skip
            outcomes.append("qualified")
        except Exception as exc:  # the outcome is what is asserted
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.transactions == 20  # every call tried to convert the open lead
    assert outcomes.count("qualified") == 1 and outcomes.count("Conflict") == 19
    assert len(items_of(bob.tenant_id, "CONTACT")) == 1
    assert len(items_of(bob.tenant_id, "COMPANY")) == 1 and len(items_of(bob.tenant_id, "DEAL")) == 1
    assert bob.get("/leads", query={"status": "qualified"}).json["total"] == 1


# ------------------------------------------------------------------ Idempotency-Key
def test_a_retry_with_the_same_key_returns_the_first_answer(staged, bob):
    lead = bob.post("/leads", LEAD).json
    key = {"Idempotency-Key": "3f7c-retry-1"}
    body = {"create_company": True}
    first = bob.post(f"/leads/{lead['id']}/qualify", body, headers=key)
    retry = bob.post(f"/leads/{lead['id']}/qualify", body, headers=key)
    assert first.status_code == retry.status_code == 200 and retry.json == first.json
    assert len(items_of(bob.tenant_id, "CONTACT")) == 1
    # Without the key, the same call is a new attempt: the lead is qualified already.
    assert bob.post(f"/leads/{lead['id']}/qualify", body).status_code == 409
    # The same key with another body is refused, not silently answered.
    other = bob.post(f"/leads/{lead['id']}/qualify", {"create_deal": True}, headers=key)
    assert other.status_code == 422 and "Idempotency-Key" in other.json["errors"]


def test_a_failed_call_is_not_remembered(bob):
    lead = bob.post("/leads", lead_body(company=None)).json
    key = {"Idempotency-Key": "k-1"}
    assert bob.post(f"/leads/{lead['id']}/qualify", {"create_company": True}, headers=key).status_code == 422
    assert (
        bob.post(
            f"/leads/{lead['id']}/qualify", {"create_company": True}, headers={"Idempotency-Key": "k-2"}
        ).status_code
        == 422
    )
    bob.put(f"/leads/{lead['id']}", lead_body(company="Now Ltd"))
    assert bob.post(f"/leads/{lead['id']}/qualify", {"create_company": True}, headers=key).status_code == 200


def test_keys_are_per_tenant(bob, other_tenant):
    key = {"Idempotency-Key": "same-key"}
    mine = bob.post("/leads", lead_body()).json
    stranger = other_tenant.as_user(2)
    theirs = stranger.post("/leads", lead_body()).json
    assert bob.post(f"/leads/{mine['id']}/qualify", headers=key).status_code == 200
    answer = stranger.post(f"/leads/{theirs['id']}/qualify", headers=key)
    assert answer.status_code == 200 and stranger.get(f"/leads/{theirs['id']}").json["status"] == "qualified"


def test_a_malformed_key_is_422(bob):
    lead = bob.post("/leads", lead_body()).json
    response = bob.post(f"/leads/{lead['id']}/qualify", headers={"Idempotency-Key": "x" * 300})
    assert response.status_code == 422


@pytest.mark.parametrize("route", ["POST /qualify", "PUT /disqualify"])
@pytest.mark.parametrize("body", [[None, None], [], "x", 1])
def test_a_body_that_is_not_an_object_is_422(bob, route, body):
    lead = bob.post("/leads", lead_body()).json
    method, path = route.split()
    response = bob.request(method, f"/leads/{lead['id']}{path}", json_body=body)
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {"body": ["The request body must be a JSON object."]}
    assert bob.get(f"/leads/{lead['id']}").json["status"] == "new"


def test_a_blank_key_is_no_key(bob):
    lead = bob.post("/leads", lead_body()).json
    response = bob.post(f"/leads/{lead['id']}/qualify", headers={"Idempotency-Key": " "})
    assert response.status_code == 200, response.json
    again = bob.post(f"/leads/{lead['id']}/qualify", headers={"Idempotency-Key": ""})
    assert again.status_code == 409  # not remembered: without a key, a retry is a 409


class LostTransactionAnswer:
    """The real client, except that the next qualify transaction is applied and then reported
    as cancelled on the lead's condition, as its retry sees when the first answer was lost."""

    def __init__(self, client: Any) -> None:
        self._client, self.lost = client, 1

    def transact_write_items(self, **kwargs: Any) -> Any:
        answer = self._client.transact_write_items(**kwargs)
        if self.lost and len(kwargs["TransactItems"]) > 2:
            self.lost -= 1
            reasons = [{"Code": "ConditionalCheckFailed"}] + [{"Code": "None"}] * (
                len(kwargs["TransactItems"]) - 1
            )
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "x"},
                    "CancellationReasons": reasons,
                },
                "TransactWriteItems",
            )
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_qualify_whose_answer_was_lost_is_not_a_409(staged, bob, monkeypatch):
    lead = bob.post("/leads", LEAD).json
    client = LostTransactionAnswer(dynamo.dynamodb_client())
    monkeypatch.setattr(dynamo, "dynamodb_client", lambda: client)
    response = bob.post(f"/leads/{lead['id']}/qualify", {"create_company": True})
    assert client.lost == 0 and response.status_code == 200
    assert bob.get(f"/leads/{lead['id']}").json["contact_id"] == response.json["contact_id"]
    assert len(items_of(bob.tenant_id, "CONTACT")) == 1


def test_a_call_while_the_first_with_the_same_key_still_runs_is_a_409(bob):
    """The second call finds the first one's record "in progress" (here: the first is still
    running, as when a client retries too early)."""
    from leads_shared.data.idempotency import run_once
    from leads_shared.errors import Conflict

    scope = {"operation": "qualify", "lead_id": 1, "key": "early-retry"}

    def first() -> dict:
        with pytest.raises(Conflict, match="still in progress"):
            run_once(bob.tenant_id, scope, {}, lambda: {"second": True})
        return {"first": True}

    assert run_once(bob.tenant_id, scope, {}, first) == {"first": True}
    # Once the first has finished, a retry gets its answer.
    assert run_once(bob.tenant_id, scope, {}, lambda: {"second": True}) == {"first": True}
