"""A real tenant: users from the identity provider's tokens, the directory API (users, teams,
deal stages), deactivation, and the default pipeline, against the emulator."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from devstack.tokens import mint_token
from leads_shared.identity import remembered
from tests.support.clients import Caller, lead_body


def fresh_tenant(gateway) -> str:
    return f"newco-{uuid.uuid4().hex[:8]}"


def idp_caller(gateway, tenant_id: str, subject: str, **claims: Any) -> Caller:
    """A caller with a token as a real identity provider issues it: a string subject."""
    claims.setdefault("role", None)
    token = mint_token(subject, tenant_id, **claims)
    return Caller(gateway, tenant_id, 0, claims.get("role") or "user", token)


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture(autouse=True)
def forget_callers():
    remembered.clear()


# ------------------------------------------------------------------ the first customer
def test_a_new_tenant_with_uuid_subjects_can_assign_leads_and_create_deals(gateway):
    tenant = fresh_tenant(gateway)
    admin = idp_caller(
        gateway, tenant, str(uuid.uuid4()), role="admin", name="Nora Admin", email="nora@newco.com"
    )

    me = admin.get("/me")
    assert me.status_code == 200, me.json
    user = me.json["user"]
    assert (user["id"], user["name"], user["email"], user["role"], user["active"]) == (
        1,
        "Nora Admin",
        "nora@newco.com",
        "admin",
        True,
    )
    assert me.json["tenant"] == {"id": tenant, "name": tenant}  # named after its id until renamed
    assert me.json["inbound_address"].startswith(f"leads+{tenant}.")
    assert me.json["inbound_address"] == admin.get("/tenant").json["inbound_address"]

    created = admin.post("/leads", lead_body(assigned_to=user["id"]))
    assert created.status_code == 201, created.json
    assert created.json["assigned_to_name"] == "Nora Admin"

    qualified = admin.post(f"/leads/{created.json['id']}/qualify", {"create_deal": True})
    assert qualified.status_code == 200, qualified.json
    deal = admin.get(f"/deals/{qualified.json['deal_id']}").json
    assert deal["stage_name"] == "Prospecting"


def test_an_admin_makes_a_team_and_a_user_whose_leads_scope_team_lists(gateway):
    tenant = fresh_tenant(gateway)
    admin = idp_caller(gateway, tenant, "admin-sub", role="admin", name="Ann")
    team = admin.post("/teams", {"name": "EMEA"})
    assert team.status_code == 201, team.json
    rep = admin.post(
        "/users",
        {
            "name": "Rita Rep",
            "email": "rita@newco.com",
            "team_id": team.json["id"],
            "external_id": "okta|rita",
        },
    )
    assert rep.status_code == 201, rep.json
    assert rep.json["team_name"] == "EMEA"
    lead = admin.post("/leads", lead_body(assigned_to=rep.json["id"])).json
    admin.post("/leads", lead_body(email="other@example.com"))  # unassigned: not the team's

    rita = idp_caller(gateway, tenant, "okta|rita")  # her token names her by the subject only
    assert rita.get("/me").json["user"]["id"] == rep.json["id"]
    listed = rita.get("/leads", query={"scope": "team"}).json
    assert [row["id"] for row in listed["data"]] == [lead["id"]]
    assert admin.get(f"/teams/{team.json['id']}").json["members"] == 1


def test_concurrent_first_requests_of_one_subject_make_one_user(gateway):
    tenant = fresh_tenant(gateway)
    callers = [idp_caller(gateway, tenant, "google-oauth2|1234", name="Sam") for _ in range(8)]

    answers = at_once([lambda c=c: c.get("/me") for c in callers])

    assert {answer.status_code for answer in answers} == {200}
    assert {answer.json["user"]["id"] for answer in answers} == {1}
    admin = idp_caller(gateway, tenant, "admin", role="admin")
    assert [user["name"] for user in admin.get("/users").json["data"]] == ["Sam", "User 2"]


def test_concurrent_first_uses_make_one_default_pipeline(gateway):
    tenant = fresh_tenant(gateway)
    callers = [idp_caller(gateway, tenant, f"user-{i}") for i in range(6)]
    for caller in callers:
        caller.get("/me")

    answers = at_once([lambda c=c: c.get("/deal-stages") for c in callers])

    assert {answer.status_code for answer in answers} == {200}
    stages = callers[0].get("/deal-stages").json["data"]
    assert [(s["name"], s["probability"], s["kind"]) for s in stages] == [
        ("Prospecting", 10, "open"),
        ("Proposal", 40, "open"),
        ("Negotiation", 70, "open"),
        ("Closed Won", 100, "won"),
        ("Closed Lost", 0, "lost"),
    ]


def test_a_known_caller_costs_no_directory_request(gateway, tenant):
    bob = tenant.as_user(2)
    lead = bob.post("/leads", lead_body()).json
    remembered.clear()
    bob.get(f"/leads/{lead['id']}")
    first = bob.last_cost["requests"]
    bob.get(f"/leads/{lead['id']}")
    assert bob.last_cost["by_operation"] == {"Query": 1}
    assert first == 2  # the directory's read on the caller's first request, then the route's


def test_changed_claims_update_the_user(gateway):
    tenant = fresh_tenant(gateway)
    idp_caller(gateway, tenant, "ann", name="Ann", email="ann@newco.com").get("/me")
    renamed = idp_caller(gateway, tenant, "ann", name="Ann Smith", email="ann@newco.com", role="admin")

    me = renamed.get("/me").json["user"]

    assert (me["name"], me["role"]) == ("Ann Smith", "admin")
    assert renamed.get("/users/1").json["name"] == "Ann Smith"


def test_without_a_role_claim_the_directorys_role_applies(gateway, tenant):
    alice = tenant.as_user(1)
    assert (
        alice.put("/users/3", {"name": "Carol Chen", "email": "carol@x.com", "role": "admin"}).status_code
        == 200
    )
    carol = Caller(tenant.gateway, tenant.tenant_id, 3, "admin", mint_token(3, tenant.tenant_id, role=None))

    assert carol.get("/me").json["user"]["role"] == "admin"
    assert carol.post("/users", {"name": "New", "email": "new@x.com"}).status_code == 201


# ------------------------------------------------------------------ deactivation
def test_a_deactivated_user_is_refused_keeps_their_leads_and_cannot_be_newly_assigned(tenant, alice, bob):
    owned = alice.post("/leads", lead_body(assigned_to=2)).json

    deactivated = alice.delete("/users/2")
    assert deactivated.status_code == 200 and deactivated.json["active"] is False
    remembered.clear()  # (on Lambda: within the 60 s a container remembers a caller)

    refused = bob.get("/leads")
    assert refused.status_code == 403
    assert refused.json == {"message": "This account is deactivated."}
    kept = alice.get(f"/leads/{owned['id']}").json
    assert (kept["assigned_to"], kept["assigned_to_name"]) == (2, "Bob Baker")
    assert (
        alice.put(f"/leads/{owned['id']}", {**lead_body(assigned_to=2), "first_name": "Jo"}).status_code
        == 200
    )
    new = alice.post("/leads", lead_body(assigned_to=2))
    assert new.status_code == 422 and new.json["errors"] == {
        "assigned_to": ["The selected assigned to is invalid."]
    }
    task = alice.post(f"/leads/{owned['id']}/tasks", {"title": "Call", "assigned_to": 2})
    assert task.status_code == 422

    assert [u["id"] for u in alice.get("/users", query={"active": "false"}).json["data"]] == [2]
    reactivated = alice.put("/users/2", {"name": "Bob Baker", "email": "bob@x.com", "team_id": 1})
    assert reactivated.json["active"] is True
    remembered.clear()
    assert bob.get("/leads").status_code == 200


def test_an_admin_cannot_deactivate_themselves(alice):
    answer = alice.delete("/users/1")
    assert answer.status_code == 409
    assert answer.json == {"message": "You cannot deactivate your own account."}
    assert alice.put("/users/1", {"name": "Alice", "email": "a@x.com", "active": False}).status_code == 409
    assert alice.get("/me").status_code == 200


# ------------------------------------------------------------------ users
def test_users_are_listed_by_name_and_filtered(alice):
    alice.post("/users", {"name": "aaron Zed", "email": "aaron@x.com", "team_id": 2})
    names = [u["name"] for u in alice.get("/users").json["data"]]
    assert names == ["aaron Zed", "Alice Admin", "Bob Baker", "Carol Chen"]
    assert [u["name"] for u in alice.get("/users", query={"team_id": 2}).json["data"]] == [
        "aaron Zed",
        "Carol Chen",
    ]
    assert [u["name"] for u in alice.get("/users", query={"search": "BAK"}).json["data"]] == ["Bob Baker"]
    assert alice.get("/users", query={"search": "aaron@"}).json["total"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@x.com"}, "name"),
        ({"name": "X"}, "email"),
        ({"name": "X", "email": "not-an-email"}, "email"),
        ({"name": "X", "email": "x@x.com", "role": "owner"}, "role"),
        ({"name": "X", "email": "x@x.com", "team_id": 99}, "team_id"),
        ({"name": "X", "email": "x@x.com", "active": 0}, "active"),
        ({"name": "X", "email": "x@x.com", "external_id": "e" * 256}, "external_id"),
    ],
)
def test_invalid_users_are_422(alice, body, field):
    answer = alice.post("/users", body)
    assert answer.status_code == 422, answer.json
    assert field in answer.json["errors"]


def test_email_and_external_id_are_unique_in_the_tenant_and_free_again_once_changed(alice, other_tenant):
    first = alice.post("/users", {"name": "Dee", "email": "dee@x.com", "external_id": "sub-dee"}).json
    taken = alice.post("/users", {"name": "Dee 2", "email": "DEE@x.com"})
    assert taken.status_code == 422 and taken.json["errors"] == {
        "email": ["The email has already been taken."]
    }
    taken = alice.post("/users", {"name": "Dee 3", "email": "d3@x.com", "external_id": "sub-dee"})
    assert taken.json["errors"] == {"external_id": ["The external id has already been taken."]}
    # another tenant may have the same
    assert other_tenant.as_user(1).post("/users", {"name": "Dee", "email": "dee@x.com"}).status_code == 201

    moved = alice.put(f"/users/{first['id']}", {"name": "Dee", "email": "dee.new@x.com"})
    assert moved.status_code == 200 and moved.json["external_id"] is None
    assert (
        alice.post("/users", {"name": "Dee 4", "email": "dee@x.com", "external_id": "sub-dee"}).status_code
        == 201
    )


def test_another_tenants_directory_is_not_found(alice, other_tenant):
    made = alice.post("/users", {"name": "Secret", "email": "secret@x.com"}).json
    team = alice.post("/teams", {"name": "Secret team"}).json
    stage = alice.post("/deal-stages", {"name": "Secret stage", "position": 9}).json
    intruder = other_tenant.as_user(1)
    for path in (f"/users/{made['id']}", f"/teams/{team['id']}", f"/deal-stages/{stage['id']}"):
        assert intruder.get(path).status_code == 404, path
        assert intruder.delete(path).status_code == 404, path
    assert alice.get(f"/users/{made['id']}").json["active"] is True


def test_users_may_read_the_directory_but_not_write_it(bob):
    assert bob.get("/users").status_code == 200
    assert bob.get("/teams").status_code == 200
    assert bob.get("/deal-stages").status_code == 200
    assert bob.post("/users", {"name": "X", "email": "x@x.com"}).status_code == 403
    assert bob.put("/users/2", {"name": "Bobby", "email": "bob@x.com"}).status_code == 403


# ------------------------------------------------------------------ teams
def test_a_team_with_active_members_cannot_be_deleted(alice):
    team = alice.post("/teams", {"name": "APAC"}).json
    member = alice.post("/users", {"name": "Ken", "email": "ken@x.com", "team_id": team["id"]}).json

    refused = alice.delete(f"/teams/{team['id']}")
    assert refused.status_code == 409
    assert "1 active member" in refused.json["message"]

    alice.delete(f"/users/{member['id']}")
    assert alice.delete(f"/teams/{team['id']}").json == {"success": True}
    assert alice.get(f"/teams/{team['id']}").status_code == 404
    assert alice.put("/teams/1", {"name": " "}).status_code == 422


# ------------------------------------------------------------------ deal stages
def test_stages_are_managed_and_a_stage_with_deals_cannot_be_deleted(alice):
    default = alice.get("/deal-stages").json["data"]
    assert len(default) == 5
    mine = alice.post("/deal-stages", {"name": "Discovery", "position": 1, "probability": 5}).json
    assert [s["name"] for s in alice.get("/deal-stages").json["data"]][:2] == ["Prospecting", "Discovery"]
    assert alice.post("/deal-stages", {"name": "X", "position": 1, "probability": 101}).status_code == 422
    assert alice.post("/deal-stages", {"name": "X", "position": 1, "kind": "pending"}).status_code == 422
    assert alice.post("/deal-stages", {"name": "X", "position": 1, "probability": False}).status_code == 422

    lead = alice.post("/leads", lead_body()).json
    qualified = alice.post(f"/leads/{lead['id']}/qualify", {"create_deal": True, "deal_stage_id": mine["id"]})
    assert qualified.status_code == 200, qualified.json

    refused = alice.delete(f"/deal-stages/{mine['id']}")
    assert refused.status_code == 409
    renamed = alice.put(
        f"/deal-stages/{mine['id']}", {"name": "Discovery call", "position": 2, "kind": "open"}
    )
    assert renamed.json["name"] == "Discovery call"
    assert alice.delete(f"/deal-stages/{mine['id']}").status_code == 409  # still has its deal

    empty = alice.post("/deal-stages", {"name": "Unused", "position": 7}).json
    assert alice.delete(f"/deal-stages/{empty['id']}").status_code == 200
    other = alice.post("/leads", lead_body(email="b@example.com")).json
    late = alice.post(f"/leads/{other['id']}/qualify", {"create_deal": True, "deal_stage_id": empty["id"]})
    assert late.status_code == 422


def test_a_deal_goes_to_the_first_open_stage(alice):
    alice.get("/deal-stages")  # the default pipeline
    alice.post("/deal-stages", {"name": "Won early", "position": 0 + 1, "kind": "won"})
    for stage in alice.get("/deal-stages").json["data"]:
        if stage["name"] == "Prospecting":
            alice.put(f"/deal-stages/{stage['id']}", {"name": "Prospecting", "position": 2})
    lead = alice.post("/leads", lead_body()).json
    deal_id = alice.post(f"/leads/{lead['id']}/qualify", {"create_deal": True}).json["deal_id"]
    assert alice.get(f"/deals/{deal_id}").json["stage_name"] == "Prospecting"
