"""Who may call what: every route of the template against every kind of token, generated from
the route table, so a route added to the template without a row here fails
``test_every_route_has_a_row``.

Each row says how to make a request that succeeds (the objects it needs are made through the
API first) and what it answers. A bad token is a 401 before anything reads the table; a user on
an admin route is a 403, also before any read; the public routes ignore tokens altogether.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jwt
import pytest

from leads_shared.config import get_settings
from leads_shared.data import get_directory_store
from leads_shared.models.directory import DealStage
from tests.devstack.template import Template
from tests.devstack.tokens import LOCAL_DEV_SECRET, mint_token
from tests.integration.conftest import Caller, Tenant, lead_body

ROUTES = sorted({(r.method, r.path) for r in Template.load().api_routes() if r.method != "ANY"})
PUBLIC = {("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/docs")}
ADMIN_ONLY = {("GET", "/leads/template"), ("GET", "/leads/export")}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


@dataclass
class Call:
    """One request a caller makes, and the status it answers when the caller may make it."""

    method: str
    path: str
    body: Any = None
    query: dict[str, Any] | None = None
    status: int = 200
    cost: dict[str, Any] = field(default_factory=dict)  # of the last send: DynamoDB requests

    def send(self, caller: Caller, authorization: str | None = "caller's") -> Any:
        """Sent with the caller's token, or with this Authorization header (None: none)."""
        headers = {}
        if authorization != "caller's":
            caller = Caller(caller.gateway, caller.tenant_id, caller.user_id, caller.role, None)
            if authorization is not None:
                headers["Authorization"] = authorization
        response = caller.request(
            self.method, self.path, json_body=self.body, query=self.query, headers=headers
        )
        self.cost = caller.last_cost
        return response


@dataclass
class World:
    """The objects of one tenant that the routes need, made through the API by its admin."""

    tenant: Tenant

    def __post_init__(self) -> None:
        stage = DealStage(tenant_id=self.tenant.tenant_id, id=10, name="Prospecting", position=1)
        get_directory_store().put_stage(stage)

    @cached_property
    def admin(self) -> Caller:
        return self.tenant.as_user(1)

    def _made(self, response: Any, key: str = "id") -> Any:
        assert response.status_code in (200, 201), response.json
        return response.json[key]

    def lead(self, **fields: Any) -> int:
        return int(self._made(self.admin.post("/leads", lead_body(**fields))))

    def note(self, lead: int, author: Caller) -> int:
        return int(self._made(author.post(f"/leads/{lead}/notes", {"content": "Called."})))

    def task(self, lead: int) -> int:
        return int(self._made(self.admin.post(f"/leads/{lead}/tasks", {"title": "Follow up"})))

    def email(self, lead: int) -> int:
        body = {"subject": "Hello", "body": "Hi.", "direction": "outbound", "sent_at": "2026-01-02T03:04:05Z"}
        return int(self._made(self.admin.post(f"/leads/{lead}/linked-emails", body)))

    def import_id(self) -> str:
        return str(self._made(self.admin.post("/leads/import", {"filename": "leads.csv"}), "import_id"))

    @cached_property
    def records(self) -> dict[str, int]:
        lead = self.lead(company="Initech")
        result = self.admin.post(f"/leads/{lead}/qualify", {"create_company": True, "create_deal": True})
        assert result.status_code == 200, result.json
        return result.json


Row = Callable[[World, Caller], Call]
EMAIL = {"subject": "Re: demo", "body": "Thanks", "direction": "inbound", "sent_at": "2026-01-01T00:00:00Z"}


def _child(kind: str, method: str, body: Any = None) -> Row:
    """A row for a route on one child (note, task, email) of a fresh lead; a note is the
    caller's own (only its author or an admin may delete it)."""

    def row(w: World, c: Caller) -> Call:
        lead = w.lead()
        made = {"notes": lambda: w.note(lead, c), "tasks": lambda: w.task(lead)}
        child = made.get(kind, lambda: w.email(lead))()
        return Call(method, f"/leads/{lead}/{kind}/{child}", body)

    return row


def _lead(suffix: str, method: str, body: Any = None, status: int = 200) -> Row:
    """A row for a route on a fresh lead (``/leads/{id}`` + suffix)."""
    return lambda w, c: Call(method, f"/leads/{w.lead()}{suffix}", body, status=status)


ROWS: dict[tuple[str, str], Row] = {
    ("GET", "/leads"): lambda w, c: Call("GET", "/leads"),
    ("POST", "/leads"): lambda w, c: Call("POST", "/leads", lead_body(), status=201),
    ("GET", "/leads/{id}"): _lead("", "GET"),
    ("PUT", "/leads/{id}"): _lead("", "PUT", lead_body(first_name="Jo")),
    ("DELETE", "/leads/{id}"): _lead("", "DELETE"),
    ("POST", "/leads/{id}/qualify"): _lead("/qualify", "POST", {}),
    ("PUT", "/leads/{id}/disqualify"): _lead("/disqualify", "PUT", {"reason": "No budget"}),
    ("GET", "/leads/match-company"): lambda w, c: Call("GET", "/leads/match-company", query={"company": "D"}),
    ("GET", "/leads/match-contact"): lambda w, c: Call("GET", "/leads/match-contact", query={"email": "a@b"}),
    ("GET", "/leads/{id}/notes"): _lead("/notes", "GET"),
    ("POST", "/leads/{id}/notes"): _lead("/notes", "POST", {"content": "Hi"}, status=201),
    ("DELETE", "/leads/{id}/notes/{noteId}"): _child("notes", "DELETE"),
    ("GET", "/leads/{id}/tasks"): _lead("/tasks", "GET"),
    ("POST", "/leads/{id}/tasks"): _lead("/tasks", "POST", {"title": "Call"}, status=201),
    ("PUT", "/leads/{id}/tasks/{taskId}"): _child("tasks", "PUT", {"title": "Call back"}),
    ("DELETE", "/leads/{id}/tasks/{taskId}"): _child("tasks", "DELETE"),
    ("GET", "/leads/{id}/linked-emails"): _lead("/linked-emails", "GET"),
    ("POST", "/leads/{id}/linked-emails"): _lead("/linked-emails", "POST", EMAIL, status=201),
    ("GET", "/leads/{id}/linked-emails/{emailId}"): _child("linked-emails", "GET"),
    ("DELETE", "/leads/{id}/linked-emails/{emailId}"): _child("linked-emails", "DELETE"),
    ("GET", "/contacts/{id}"): lambda w, c: Call("GET", f"/contacts/{w.records['contact_id']}"),
    ("GET", "/companies/{id}"): lambda w, c: Call("GET", f"/companies/{w.records['company_id']}"),
    ("GET", "/deals/{id}"): lambda w, c: Call("GET", f"/deals/{w.records['deal_id']}"),
    ("GET", "/leads/template"): lambda w, c: Call("GET", "/leads/template"),
    ("GET", "/leads/export"): lambda w, c: Call("GET", "/leads/export"),
    ("POST", "/leads/import"): lambda w, c: Call("POST", "/leads/import", {"filename": "x.csv"}, status=201),
    ("GET", "/leads/imports/{import_id}"): lambda w, c: Call("GET", f"/leads/imports/{w.import_id()}"),
    ("GET", "/health"): lambda w, c: Call("GET", "/health"),
    ("GET", "/openapi.json"): lambda w, c: Call("GET", "/openapi.json"),
    ("GET", "/docs"): lambda w, c: Call("GET", "/docs"),
}  # fmt: skip


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
    assert row(world, world.admin).send(world.admin).status_code == call.status
