"""Who may call what: every route of the template against every kind of token, generated from
the route table (``route_rows.ROWS``), so a route added to the template without a row fails
``test_every_route_has_a_row``.

A bad token is a 401 before anything reads the table; a user on an admin route is a 403, also
before any read; the public routes ignore tokens altogether.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from leads_shared.config import get_settings
from tests.devstack.tokens import LOCAL_DEV_SECRET, mint_token
from tests.integration.route_rows import ADMIN_ONLY, PUBLIC, ROUTES, ROWS, World, hidden_in


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
    assert set(ROWS) == set(ROUTES), "a route of the template needs a row in ROWS (and no row may be stale)"
    assert PUBLIC | ADMIN_ONLY <= set(ROUTES)


def test_the_openapi_document_says_which_routes_are_admin_only(tenant):
    document = tenant.anonymous().get("/openapi.json").json
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method != "parameters" and "403" in operation["responses"]
    }
    assert ADMIN_ONLY <= documented


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
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


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
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
