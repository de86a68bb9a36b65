"""SCIM provisioning as Okta and Entra ID use it: the tenant's SCIM token, users (userName = email,
externalId = the subject of the user's JWTs), groups (teams), filters, PATCH in both dialects,
deletion, and SCIM's error bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devstack.tokens import mint_token
from leads_shared import identity, scim_tokens
from leads_shared.data import get_directory_store, get_scim_token_store
from leads_shared.keys import ScimTokenKeys
from tests.integration.route_rows import GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA, World
from tests.support.clients import Caller, Tenant

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SCIM_JSON = {"Content-Type": "application/scim+json", "Accept": "application/scim+json"}


class Scim:
    """The identity provider of one tenant: SCIM requests with the tenant's SCIM token."""

    def __init__(self, tenant: Tenant) -> None:
        self.world = World(tenant)
        self.caller: Caller = self.world.scim

    def send(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        data = json.dumps(body) if body is not None else None
        return self.caller.request(
            method, f"/scim/v2{path}", data=data, headers=SCIM_JSON, query=query or None
        )

    def user(self, email: str, **fields: Any) -> dict[str, Any]:
        created = self.send("POST", "/Users", {"schemas": [USER_SCHEMA], "userName": email, **fields})
        assert created.status_code == 201, created.get_data(as_text=True)
        return dict(created.json)

    def patch(self, path: str, *operations: dict[str, Any]) -> Any:
        return self.send("PATCH", path, {"schemas": [PATCH_SCHEMA], "Operations": list(operations)})


@pytest.fixture
def idp(tenant: Tenant) -> Scim:
    return Scim(tenant)


def scim_error(response: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/scim+json"
    body = dict(response.json)
    assert body["schemas"] == [ERROR] and body["status"] == str(status), body
    assert body.get("scimType") == scim_type, body
    return body


# ------------------------------------------------------------------ the token
def test_an_admin_issues_the_token_once_and_a_new_one_revokes_it(tenant, alice, bob):
    first = alice.post("/tenant/scim-token")
    assert first.status_code == 201 and set(first.json) == {"token", "created_at"}
    token = first.json["token"]
    assert token.startswith("scim_") and len(token) > 40
    store = get_scim_token_store()
    stored = store.get_values(ScimTokenKeys.tenant(tenant.tenant_id))
    assert stored is not None and token not in json.dumps(stored), "only the hash is kept"
    assert stored["token_hash"] == scim_tokens.token_hash(token)

    as_idp = Caller(tenant.gateway, tenant.tenant_id, 0, "scim", token)
    assert as_idp.get("/scim/v2/Users").status_code == 200
    second = alice.post("/tenant/scim-token").json["token"]
    scim_error(as_idp.get("/scim/v2/Users"), 401)
    as_idp.token = second
    assert as_idp.get("/scim/v2/Users").status_code == 200
    assert store.tenant_of(scim_tokens.token_hash(token)) is None

    assert bob.post("/tenant/scim-token").status_code == 403


def test_tokens_are_per_tenant(idp, other_tenant):
    theirs = Scim(other_tenant)
    mine = idp.user("ada@example.com")
    scim_error(theirs.send("GET", f"/Users/{mine['id']}"), 404)
    assert theirs.send("GET", "/Users", filter='userName eq "ada@example.com"').json["totalResults"] == 0
    group = idp.send("POST", "/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Mine"}).json
    scim_error(theirs.send("DELETE", f"/Groups/{group['id']}"), 404)
    scim_error(theirs.patch(f"/Users/{mine['id']}", {"op": "replace", "path": "active", "value": False}), 404)


# ------------------------------------------------------------------ users
def test_create_answers_201_with_location_and_the_user(idp, tenant):
    created = idp.send(
        "POST",
        "/Users",
        {
            "schemas": [USER_SCHEMA],
            "userName": "Ada.Lovelace@Example.com",
            "externalId": "00u1ada",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "other@example.com", "type": "work", "primary": True}],
            "active": True,
        },
    )
    assert created.status_code == 201
    user = created.json
    assert created.headers["Location"] == user["meta"]["location"]
    assert user["meta"]["location"].endswith(f"/scim/v2/Users/{user['id']}")
    assert user["meta"]["resourceType"] == "User"
    assert user["userName"] == "Ada.Lovelace@Example.com", "userName is the email (userName wins)"
    assert user["emails"] == [{"value": "Ada.Lovelace@Example.com", "type": "work", "primary": True}]
    assert user["displayName"] == "Ada Lovelace" and user["externalId"] == "00u1ada"
    assert user["name"] == {"formatted": "Ada Lovelace", "givenName": "Ada", "familyName": "Lovelace"}
    assert user["roles"] == [{"value": "user", "primary": True}] and "groups" not in user
    stored = get_directory_store().user(tenant.tenant_id, int(user["id"]))
    assert stored is not None and (stored.name, stored.role, stored.team_id) == ("Ada Lovelace", "user", None)


def test_okta_and_entra_extras_are_accepted_and_dropped(idp):
    entra = {
        "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee@testuser.com",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": "Test_User_ab6490ee@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        "title": "Engineer",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"},
    }
    okta = {
        "schemas": [USER_SCHEMA],
        "userName": "test.user@okta.example.com",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": "test.user@okta.example.com", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }
    for body in (entra, okta):
        created = idp.send("POST", "/Users", body)
        assert created.status_code == 201, created.get_data(as_text=True)
        assert "title" not in created.json and "password" not in created.json


def test_username_must_be_an_email(idp):
    body = scim_error(
        idp.send("POST", "/Users", {"schemas": [USER_SCHEMA], "userName": "jdoe"}), 400, "invalidValue"
    )
    assert "userName" in body["detail"]
    scim_error(idp.send("POST", "/Users", {"schemas": [USER_SCHEMA]}), 400, "invalidValue")
    scim_error(idp.send("POST", "/Users", "{not json"), 400, "invalidSyntax")


def test_uniqueness_is_409(idp):
    idp.user("ada@example.com", externalId="00u1ada")
    taken = idp.send("POST", "/Users", {"schemas": [USER_SCHEMA], "userName": "ADA@example.com"})
    assert "userName" in scim_error(taken, 409, "uniqueness")["detail"]
    other = {"schemas": [USER_SCHEMA], "userName": "grace@example.com", "externalId": "00u1ada"}
    assert "externalId" in scim_error(idp.send("POST", "/Users", other), 409, "uniqueness")["detail"]
    grace = idp.user("grace@example.com")
    scim_error(
        idp.patch(f"/Users/{grace['id']}", {"op": "replace", "path": "userName", "value": "ada@example.com"}),
        409,
        "uniqueness",
    )


def test_filters_and_paging(idp, tenant):
    ada = idp.user("ada@example.com", externalId="00u1ada", displayName="Ada Lovelace")
    found = idp.send("GET", "/Users", filter='userName eq "ADA@example.com"')
    assert found.status_code == 200 and found.json["schemas"] == [LIST]
    assert found.json["totalResults"] == 1 and found.json["Resources"][0]["id"] == ada["id"]
    assert idp.send("GET", "/Users", filter='externalId eq "00u1ada"').json["Resources"][0]["id"] == ada["id"]
    assert idp.send("GET", "/Users", filter='externalId eq "00U1ADA"').json["totalResults"] == 0, "caseExact"
    assert idp.send("GET", "/Users", filter='displayName eq "Ada Lovelace"').json["totalResults"] == 1
    assert idp.send("GET", "/Users", filter='userName sw "ada" and active eq true').json["totalResults"] == 1
    nobody = idp.send("GET", "/Users", filter='userName eq "nobody@example.com"').json
    assert (nobody["totalResults"], nobody["itemsPerPage"], nobody.get("Resources", [])) == (0, 0, [])

    scim_error(idp.send("GET", "/Users", filter='title eq "x"'), 400, "invalidFilter")
    scim_error(idp.send("GET", "/Users", filter="userName eq"), 400, "invalidFilter")
    scim_error(idp.send("GET", "/Users", count="many"), 400, "invalidValue")

    everyone = idp.send("GET", "/Users").json  # the fixture's three users, and Ada
    assert everyone["totalResults"] == 4 and everyone["itemsPerPage"] == 4
    page = idp.send("GET", "/Users", startIndex=2, count=2).json
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (4, 2, 2)
    assert [user["id"] for user in page["Resources"]] == ["2", "3"]
    assert idp.send("GET", "/Users", startIndex=0, count=-1).json["itemsPerPage"] == 0
    only = idp.send("GET", f"/Users/{ada['id']}", attributes="userName").json
    assert set(only) == {"schemas", "id", "userName"}
    groups = idp.send(
        "GET", "/Groups", filter='displayName eq "Enterprise"', excludedAttributes="members"
    ).json
    assert groups["totalResults"] == 1 and "members" not in groups["Resources"][0]


def test_the_userName_lookup_reads_the_marker_not_the_directory(idp):
    idp.user("ada@example.com")
    idp.send("GET", "/Users", filter='userName eq "ada@example.com"')
    cost = idp.caller.last_cost
    assert "Query" in cost["by_operation"]  # the team names of the user's `groups`
    assert cost["items_read"] <= 6, cost


def test_entra_deactivates_with_a_string_and_the_users_tokens_get_403(idp, tenant):
    user = idp.user("ada@example.com", externalId="entra-oid-ada", displayName="Ada")
    ada_jwt = Caller(tenant.gateway, tenant.tenant_id, int(user["id"]), "user",
                     mint_token("entra-oid-ada", tenant.tenant_id, role=None))  # fmt: skip
    me = ada_jwt.get("/me")
    assert me.status_code == 200 and me.json["user"]["id"] == int(user["id"]), "sub = externalId is the user"

    patched = idp.patch(f"/Users/{user['id']}", {"op": "Replace", "path": "active", "value": "False"})
    assert patched.status_code == 200 and patched.json["active"] is False
    identity.remembered.clear()  # the 60 s identity cache of a container
    refused = ada_jwt.get("/me")
    assert refused.status_code == 403 and refused.json == {"message": "This account is deactivated."}

    pathless = idp.patch(
        f"/Users/{user['id']}", {"op": "replace", "value": {"active": "True", "displayName": "Ada L."}}
    )
    assert pathless.status_code == 200 and pathless.json["active"] is True
    assert pathless.json["displayName"] == "Ada L."
    identity.remembered.clear()
    assert ada_jwt.get("/me").status_code == 200


def test_patch_names_emails_and_external_id_as_entra_sends_them(idp, tenant):
    user = idp.user("ada@example.com", name={"givenName": "Ada", "familyName": "Lovelace"})
    path = f"/Users/{user['id']}"
    given = idp.patch(path, {"op": "replace", "path": "name.givenName", "value": "Augusta"})
    assert given.json["displayName"] == "Augusta Lovelace"
    work = idp.patch(
        path, {"op": "replace", "path": 'emails[type eq "work"].value', "value": "x@example.com"}
    )
    assert work.status_code == 200 and work.json["userName"] == "ada@example.com", "userName wins"
    assert (
        idp.patch(path, {"op": "add", "path": "externalId", "value": "sub-1"}).json["externalId"] == "sub-1"
    )
    assert "externalId" not in idp.patch(path, {"op": "remove", "path": "externalId"}).json
    unknown = idp.patch(
        path,
        {
            "op": "replace",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "value": "Sales",
        },
    )
    assert unknown.status_code == 200, "attributes we do not keep are dropped"
    scim_error(idp.patch(path, {"op": "remove", "path": "userName"}), 400, "mutability")
    scim_error(
        idp.patch(path, {"op": "add", "path": "roles", "value": [{"value": "admin"}]}), 400, "mutability"
    )
    scim_error(idp.send("PATCH", path, {"schemas": [PATCH_SCHEMA]}), 400, "invalidValue")
    assert get_directory_store().user(tenant.tenant_id, int(user["id"])).role == "user"


def test_put_replaces_what_scim_manages_and_keeps_role_and_team(idp, tenant):
    alice = idp.send("GET", "/Users/1").json
    assert alice["roles"] == [{"value": "admin", "primary": True}]
    assert alice["groups"][0]["value"] == "1" and alice["groups"][0]["display"] == "Inbound"
    replaced = idp.send(
        "PUT",
        "/Users/1",
        {"schemas": [USER_SCHEMA], "userName": alice["userName"], "displayName": "Alice A."},
    )
    assert replaced.status_code == 200 and replaced.json["displayName"] == "Alice A."
    stored = get_directory_store().user(tenant.tenant_id, 1)
    assert stored is not None and (stored.role, stored.team_id, stored.active) == ("admin", 1, True)
    scim_error(idp.send("PUT", "/Users/999", {"schemas": [USER_SCHEMA], "userName": "x@example.com"}), 404)
    scim_error(idp.send("GET", "/Users/not-a-number"), 404)


def test_delete_deactivates_then_404_and_a_new_create_brings_the_same_user_back(idp, tenant, alice):
    user = idp.user("ada@example.com", externalId="00u1ada")
    lead = alice.post("/leads", {"first_name": "L", "last_name": "Ead", "assigned_to": int(user["id"])})
    assert lead.status_code == 201

    assert idp.send("DELETE", f"/Users/{user['id']}").status_code == 204
    scim_error(idp.send("GET", f"/Users/{user['id']}"), 404)
    scim_error(idp.send("DELETE", f"/Users/{user['id']}"), 404)
    scim_error(idp.patch(f"/Users/{user['id']}", {"op": "replace", "path": "active", "value": True}), 404)
    assert idp.send("GET", "/Users", filter='userName eq "ada@example.com"').json["totalResults"] == 0
    kept = alice.get(f"/users/{user['id']}").json
    assert kept["active"] is False, "the user stays, inactive, for the admin API"

    again = idp.user("ada@example.com", displayName="Ada Again")
    assert again["id"] == user["id"] and again["active"] is True and again["displayName"] == "Ada Again"
    assert alice.get(f"/leads/{lead.json['id']}").json["assigned_to"] == int(user["id"])


# ------------------------------------------------------------------ groups
def test_groups_are_teams_and_members_move_between_them(idp, tenant):
    store = get_directory_store()
    created = idp.send(
        "POST",
        "/Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "Field",
            "externalId": "00g1",
            "members": [{"value": "2"}],
        },
    )
    assert created.status_code == 201 and created.headers["Location"].endswith(
        f"/Groups/{created.json['id']}"
    )
    group = created.json
    assert [m["value"] for m in group["members"]] == ["2"] and group["members"][0]["type"] == "User"
    assert store.user(tenant.tenant_id, 2).team_id == int(group["id"]), "moved out of team 1"
    assert [m["value"] for m in idp.send("GET", "/Groups/1").json["members"]] == ["1"]

    path = f"/Groups/{group['id']}"
    okta_add = idp.patch(
        path, {"op": "add", "path": "members", "value": [{"value": "3", "display": "carol"}]}
    )
    assert sorted(m["value"] for m in okta_add.json["members"]) == ["2", "3"]
    okta_remove = idp.patch(path, {"op": "remove", "path": 'members[value eq "2"]'})
    assert [m["value"] for m in okta_remove.json["members"]] == ["3"]
    assert store.user(tenant.tenant_id, 2).team_id is None
    entra_remove = idp.patch(path, {"op": "Remove", "path": "members", "value": [{"value": "3"}]})
    assert entra_remove.status_code == 200 and not entra_remove.json.get("members")
    renamed = idp.patch(path, {"op": "replace", "value": {"id": group["id"], "displayName": "Field sales"}})
    assert renamed.status_code == 200 and renamed.json["displayName"] == "Field sales"
    assert idp.send("GET", "/Users/1").json["groups"][0]["display"] == "Inbound"

    scim_error(
        idp.patch(path, {"op": "add", "path": "members", "value": [{"value": "999"}]}), 400, "invalidValue"
    )
    replaced = idp.send(
        "PUT",
        path,
        {"schemas": [GROUP_SCHEMA], "displayName": "Field", "members": [{"value": "1"}, {"value": "3"}]},
    )
    assert sorted(m["value"] for m in replaced.json["members"]) == ["1", "3"]
    assert idp.send("GET", "/Groups", filter='externalId eq "00g1"').json["totalResults"] == 1


def test_deleting_a_group_moves_its_members_out_first(idp, tenant, alice):
    assert alice.delete("/teams/2").status_code == 409, "the admin API's rule"
    assert idp.send("DELETE", "/Groups/2").status_code == 204
    scim_error(idp.send("GET", "/Groups/2"), 404)
    carol = get_directory_store().user(tenant.tenant_id, 3)
    assert carol is not None and carol.team_id is None and carol.active


# ------------------------------------------------------------------ errors and discovery
def test_discovery_needs_the_token_and_describes_what_we_keep(idp, tenant):
    scim_error(tenant.anonymous().get("/scim/v2/ServiceProviderConfig"), 401)
    config = idp.send("GET", "/ServiceProviderConfig").json
    assert config["patch"] == {"supported": True} and config["bulk"]["supported"] is False
    assert config["filter"] == {"supported": True, "maxResults": 200}
    types = idp.send("GET", "/ResourceTypes").json
    assert [t["endpoint"] for t in types["Resources"]] == ["/Users", "/Groups"]
    schemas = idp.send("GET", "/Schemas").json["Resources"]
    user_schema = next(s for s in schemas if s["id"] == USER_SCHEMA)
    assert {a["name"] for a in user_schema["attributes"]} == {
        "userName",
        "name",
        "displayName",
        "active",
        "emails",
        "groups",
        "roles",
    }
    assert idp.send("GET", f"/Schemas/{USER_SCHEMA}").json["name"] == "User"
    scim_error(idp.send("GET", "/Schemas/urn:nope"), 404)
    scim_error(idp.send("GET", "/ResourceTypes/Nope"), 404)


def test_unknown_paths_and_search_answer_in_scim(idp, tenant):
    scim_error(idp.send("GET", "/Nothing/here"), 404)
    scim_error(
        idp.send("POST", "/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
        501,
    )
    scim_error(tenant.anonymous().get("/scim/v2/Nothing"), 401)
    other = idp.send("POST", "/Schemas", {})
    assert other.status_code == 405 and other.headers["Allow"] == "GET"


def test_an_oversized_body_is_413_in_scim(idp):
    body = {"schemas": [USER_SCHEMA], "userName": "ada@example.com", "displayName": "x" * 300_000}
    scim_error(idp.send("POST", "/Users", body), 413)


def test_an_unexpected_failure_is_a_500_in_scim_without_details(idp, monkeypatch):
    from leads_shared import scim

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boto3 said something internal")

    monkeypatch.setattr(scim, "list_users", broken)
    body = scim_error(idp.send("GET", "/Users"), 500)
    assert body["detail"] == "Server Error"
