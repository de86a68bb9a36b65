"""Who may call what: every route of the template against every kind of token, generated from
the route table (``route_rows.ROWS``), so a route added to the template without a row fails
``test_every_route_has_a_row``.

A bad token is a 401 before anything reads the table; a user on an admin route is a 403, also
before any read; the public routes ignore tokens altogether.

The SCIM routes take only the tenant's SCIM token (``route_rows.SCIM_ROWS``): anything else (no
token, a JWT, a revoked SCIM token) is a 401 in SCIM's error body, decided by the token lookup
alone; another tenant's SCIM token is that tenant's, which does not have our resources (404).
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from devstack.tokens import LOCAL_DEV_SECRET, mint_token
from leads_shared.config import get_settings
from tests.integration.route_rows import ADMIN_ONLY, PUBLIC, ROUTES, ROWS, SCIM_ROWS, Call, World, hidden_in
from tests.support.clients import Caller

JWT_ROUTES = [route for route in ROUTES if route not in SCIM_ROWS]
SCIM_ROUTES = [route for route in ROUTES if route in SCIM_ROWS]
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _claims(tenant: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "1", "tenant_id": tenant, "role": "admin", "iat": now, "exp": now + 600}
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def bad_authorizations(tenant_id: str) -> dict[str, str | None]:
    """Every way a caller can fail to prove who they are (all as the tenant's admin otherwise)."""

    def signed(**changes: Any) -> str:
        return "Bearer " + jwt.encode(_claims(tenant_id, **changes), LOCAL_DEV_SECRET, algorithm="HS256")

    return {
        "no token": None,
        "garbage": "Bearer garbage",
        "not bearer": "Basic YWxpY2U6c2VjcmV0",
        "expired": signed(exp=int(time.time()) - 3600),
        "alg none": "Bearer " + jwt.encode(_claims(tenant_id), None, algorithm="none"),
        "other secret": "Bearer "
        + jwt.encode(_claims(tenant_id), "another-secret-of-32-characters!", algorithm="HS256"),
        "no tenant_id": signed(tenant_id=None),
        "no sub": signed(sub=None),
        "no exp": signed(exp=None),
        "unknown role": signed(role="owner"),
    }


def test_every_route_has_a_row():
    assert not set(ROWS) & set(SCIM_ROWS), "a route has a row in ROWS and in SCIM_ROWS"
    assert set(ROWS) | set(SCIM_ROWS) == set(ROUTES), (
        "a route of the template needs a row in ROWS or SCIM_ROWS (and no row may be stale)"
    )
    assert {route for route in ROUTES if route[1].startswith("/scim/")} == set(SCIM_ROWS)
    assert PUBLIC | ADMIN_ONLY <= set(ROWS)


def test_the_openapi_document_says_which_routes_are_admin_only(tenant):
    document = tenant.anonymous().get("/openapi.json").json
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method != "parameters" and "403" in operation["responses"]
    }
    assert ADMIN_ONLY <= documented


@pytest.mark.parametrize(("method", "path"), JWT_ROUTES, ids=[f"{m} {p}" for m, p in JWT_ROUTES])
def test_route_against_every_token(gateway, tenant, method, path):
    world = World(tenant)
    row = ROWS[(method, path)]
    call = row(world, world.admin)
    public = (method, path) in PUBLIC

    for name, authorization in bad_authorizations(tenant.tenant_id).items():
        response = call.send(world.admin, authorization)
        if public:
            assert response.status_code == call.status, name
            continue
        assert response.status_code == 401, (name, response.json)
        assert set(response.json) == {"message"}, name
        assert call.cost["requests"] == 0, f"{name}: read or wrote before checking the token"

    user = tenant.as_user(2)
    as_user = row(world, user)
    response = as_user.send(user)
    if (method, path) in ADMIN_ONLY:
        assert response.status_code == 403, response.json
        assert as_user.cost["requests"] == 0, "read or wrote before checking the role"
    else:
        assert response.status_code == call.status, response.json

    response = row(world, world.admin).send(world.admin)
    assert response.status_code == call.status, response.json
    if response.mimetype == "application/json" and not public:  # (the OpenAPI document has `version`)
        assert not hidden_in(response.json), "a response carries key attributes"
        assert "TENANT#" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path"), JWT_ROUTES, ids=[f"{m} {p}" for m, p in JWT_ROUTES])
def test_issuer_and_audience_are_checked_when_configured(monkeypatch, tenant, method, path):
    monkeypatch.setenv("JWT_ISSUER", "https://auth.example.com/")
    monkeypatch.setenv("JWT_AUDIENCE", "leads-api")
    get_settings.cache_clear()  # the tenant fixture read them already (reset after each test)
    world = World(tenant)
    right = {"iss": "https://auth.example.com/", "aud": "leads-api"}
    world.admin.token = mint_token(1, tenant.tenant_id, role="admin", team_id=1, **right)
    row = ROWS[(method, path)]
    call = row(world, world.admin)
    expected_when_wrong = call.status if (method, path) in PUBLIC else 401

    for wrong in ({"iss": "https://evil.example.com/"}, {"aud": "other-api"}, {"iss": None}, {"aud": None}):
        claims = {name: value for name, value in {**right, **wrong}.items() if value is not None}
        token = mint_token(1, tenant.tenant_id, role="admin", team_id=1, **claims)
        assert call.send(world.admin, f"Bearer {token}").status_code == expected_when_wrong, wrong
        assert call.cost.get("requests", 0) == 0 or (method, path) in PUBLIC
    assert row(world, world.admin).send(world.admin).status_code == call.status


def _is_scim_error(response: Any, status: int) -> bool:
    body = response.json
    return (
        response.mimetype == "application/scim+json"
        and body.get("schemas") == [SCIM_ERROR]
        and body.get("status") == str(status)
    )


@pytest.mark.parametrize(("method", "path"), SCIM_ROUTES, ids=[f"{m} {p}" for m, p in SCIM_ROUTES])
def test_scim_route_against_every_token(gateway, tenant, other_tenant, method, path):
    world = World(tenant)
    row = SCIM_ROWS[(method, path)]
    revoked = world.scim_token()
    scim = world.scim  # issued after `revoked`: revokes it
    call = row(world, scim)

    jwt_of_admin = f"Bearer {world.admin.token}"
    refused = {
        "no token": (None, 0),
        "garbage": ("Bearer garbage", 0),
        "not bearer": (f"Basic {scim.token}", 0),
        "the admin's JWT": (jwt_of_admin, 0),
        "an unknown SCIM token": ("Bearer scim_" + "x" * 43, 1),
        "a revoked SCIM token": (f"Bearer {revoked}", 1),
    }
    for name, (authorization, lookups) in refused.items():
        response = call.send(scim, authorization)
        assert response.status_code == 401, (name, response.json)
        assert _is_scim_error(response, 401), (name, response.json)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
        assert call.cost["requests"] == lookups, f"{name}: read beyond the token lookup: {call.cost}"
        assert set(call.cost["by_operation"]) <= {"GetItem"}, name

    if "{id}" in path and path.startswith(("/scim/v2/Users", "/scim/v2/Groups")):
        # another tenant's SCIM token is that tenant's: our ids are not theirs
        others = Caller(gateway, other_tenant.tenant_id, 0, "scim", World(other_tenant).scim_token())
        response = row(world, scim).send(others, f"Bearer {others.token}")
        assert response.status_code == 404, response.json
        assert _is_scim_error(response, 404)

    response = row(world, scim).send(scim)
    assert response.status_code == call.status, response.get_data(as_text=True)
    if response.status_code != 204:
        assert response.mimetype == "application/scim+json"
        assert not hidden_in(response.json) - {"version"}, "a response carries key attributes"
        assert "TENANT#" not in response.get_data(as_text=True)
    if method == "POST":
        assert response.headers["Location"] == response.json["meta"]["location"]


def test_a_scim_token_is_refused_by_the_rest_of_the_api(tenant):
    """SCIM tokens are not JWTs: every other route answers 401 in the API's envelope."""
    world = World(tenant)
    scim = world.scim
    for method, path in [
        ("GET", "/leads"),
        ("GET", "/me"),
        ("POST", "/tenant/scim-token"),
        ("GET", "/users"),
    ]:
        response = Call(method, path).send(world.admin, f"Bearer {scim.token}")
        assert response.status_code == 401, (method, path, response.json)
        assert response.json == {"message": "Unauthenticated."}
