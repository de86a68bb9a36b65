"""The requests the benchmarks make: every route of template.yaml (but the ``ANY`` fallbacks), as
API Gateway events for its function, in a tenant of the benchmark's own.

``BenchTenant.create`` writes the tenant's users and stages, imports ``leads`` generated leads
through the import worker's own code (the fast way to have 10,000 of them), then makes, through
the API, what the routes read: a lead with two notes, two tasks and a logged email; a qualified
lead (a contact, a company, a deal); an import job. ``requests(route, n)`` gives ``n`` requests of
one route; a route that changes or removes what it acts on (a delete, a qualify) gets ``n``
targets of its own, made first, so that every request of the ``n`` succeeds.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from devstack.gateway import proxy_event, rule_path
from devstack.runtime import LambdaFunction
from devstack.template import ApiRoute, Template
from devstack.tokens import mint_token
from leads_shared import import_worker
from leads_shared.data import (
    get_blob_store,
    get_directory_store,
    get_import_store,
    get_lead_store,
)
from leads_shared.keys import ImportKeys
from leads_shared.models.directory import DealStage, Team, User
from leads_shared.models.imports import ImportJob

USERS = {1: ("Alice Admin", "admin", 1), 2: ("Bob Baker", "user", 1), 3: ("Carol Chen", "user", 2)}
STAGES = ["Prospecting", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
LEAD = {
    "first_name": "John",
    "last_name": "Doe",
    "phone": "+1-555-0100",
    "company": "Doe Industries",
    "job_title": "CTO",
    "source": "Website",
    "status": "new",
    "notes": "Met at the booth.",
    "tags": "vip",
    "assigned_to": 2,
}
LOGGED_EMAIL = {
    "subject": "Call recap",
    "body": "Thanks for the call today. As promised, the trial starts Monday.",
    "direction": "outbound",
    "sent_at": "2026-01-22T15:30:00Z",
}


@dataclass(frozen=True)
class ApiCall:
    method: str
    path: str
    query: Mapping[str, str] | None = None
    body: Any = None
    headers: Mapping[str, str] | None = None


class Api:
    """The template's API routes as events for their functions' handlers, in this process (the
    event the local gateway would build; no HTTP)."""

    def __init__(self, template: Template, functions: Mapping[str, LambdaFunction]) -> None:
        routes = template.api_routes()
        self.routes = {(route.path, route.method): route for route in routes}
        self.apis = template.apis()
        self.functions = functions
        self._map = Map(
            [Rule(rule_path(path), endpoint=path) for path in sorted({route.path for route in routes})],
            merge_slashes=False,
        )

    def route_keys(self) -> list[str]:
        """``GET /leads/{id}``...: every route but the ``ANY`` fallbacks and the SCIM routes, in
        template order. (The SCIM routes take the tenant's SCIM token, not a user's JWT: the
        warm bench does not send them yet; their function's cold start is measured.)"""
        return [
            f"{method} {path}"
            for path, method in self.routes
            if method != "ANY" and not path.startswith(SCIM_PREFIX)
        ]

    def event(self, call: ApiCall, token: str) -> tuple[ApiRoute, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}", **(call.headers or {})}
        data = None
        if call.body is not None:
            data = json.dumps(call.body)
            headers["Content-Type"] = "application/json"
        builder = EnvironBuilder(
            path=call.path,
            method=call.method,
            query_string=dict(call.query or {}),
            headers=headers,
            data=data,
        )
        request = Request(builder.get_environ())
        resource, parameters = self._map.bind_to_environ(request.environ).match()
        route = self.routes[(resource, call.method)]
        event = proxy_event(request, route, self.apis[route.api_id], parameters, request.get_data())
        return route, event

    def invoke(self, route: ApiRoute, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = self.functions[route.function_id].invoke(event)
        return response

    def call(self, call: ApiCall, token: str) -> Any:
        """Make the call; its JSON answer (it must succeed)."""
        response = self.invoke(*self.event(call, token))
        status, body = int(response["statusCode"]), response.get("body") or ""
        if status >= 300:
            raise RuntimeError(f"{call.method} {call.path}: {status} {body[:500]}")
        return json.loads(body) if body.startswith(("{", "[")) else body


def csv_file(count: int) -> bytes:
    """A CSV file of ``count`` new leads (lead<n>@example.com, 97 company names)."""
    lines = ["first_name,last_name,email,company,status"]
    lines += [f"First{n},Last,lead{n}@example.com,Company {n % 97},new" for n in range(count)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def upload(tenant: str, count: int) -> str:
    """A queued import job of ``count`` rows, its file in the bucket: the key to import."""
    import_id = uuid.uuid4().hex
    key = ImportKeys.upload(tenant, import_id)
    get_blob_store().put(key, csv_file(count))
    get_import_store().create(
        ImportJob(tenant_id=tenant, import_id=import_id, status="queued", key=key, created_by=1,
                  created_at="2026-01-01T00:00:00.000000Z")
    )  # fmt: skip
    return key


def import_leads(tenant: str, count: int) -> None:
    """``count`` leads through the import worker's code (ids, keys and counters as it writes them)."""
    job = import_worker.run_upload(
        upload(tenant, count), get_import_store(), get_lead_store(), get_directory_store(), get_blob_store()
    )
    if job is None or job.status != "completed" or job.created != count:
        raise RuntimeError(f"the import of {count} leads did not complete: {job!r}")


@dataclass
class BenchTenant:
    api: Api
    tenant_id: str
    token: str  # the admin's (user 1, with a name: notes need no read of the author)
    ids: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, api: Api, tenant_id: str, leads: int = 0) -> BenchTenant:
        directory = get_directory_store()
        directory.put_team(Team(tenant_id=tenant_id, id=1, name="Inbound"))
        directory.put_team(Team(tenant_id=tenant_id, id=2, name="Enterprise"))
        for user_id, (name, role, team) in USERS.items():
            email = f"user{user_id}@{tenant_id}.example"
            directory.put_user(
                User(tenant_id=tenant_id, id=user_id, name=name, email=email, role=role, team_id=team)
            )
        for position, name in enumerate(STAGES, start=1):
            directory.put_stage(DealStage(tenant_id=tenant_id, id=position, name=name, position=position))
        if leads:
            import_leads(tenant_id, leads)
        name, role, team = USERS[1]
        token = mint_token(
            1, tenant_id, role=role, team_id=team, name=name, email=f"user1@{tenant_id}.example"
        )
        tenant = cls(api, tenant_id, token)
        tenant._fixtures()
        return tenant

    def call(self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None) -> Any:
        return self.api.call(ApiCall(method, path, query, body), self.token)

    def new_lead(self, **fields: Any) -> int:
        body = {**LEAD, "email": f"bench-{uuid.uuid4().hex[:10]}@example.com", **fields}
        lead_id: int = self.call("POST", "/leads", body)["id"]
        return lead_id

    def _fixtures(self) -> None:
        lead = self.new_lead(email="john.doe@example.com")
        for text in ("Called: wants a demo.", "Sent the pricing sheet."):
            self.call("POST", f"/leads/{lead}/notes", {"content": text})
        tasks = [self.call("POST", f"/leads/{lead}/tasks", {"title": t, "assigned_to": 2}) for t in "AB"]
        email = self.call("POST", f"/leads/{lead}/linked-emails", LOGGED_EMAIL)
        qualified = self.new_lead()
        records = self.call(
            "POST",
            f"/leads/{qualified}/qualify",
            {"create_company": True, "create_deal": True, "deal_value": 1},
        )
        job = self.call("POST", "/leads/import", {"filename": "bench.csv", "mode": "skip"})
        export = self.call("POST", "/leads/exports")
        form = self.call("POST", "/lead-forms", FORM)
        self.ids.update(
            lead=lead, task=tasks[0]["id"], email=email["id"], contact=records["contact_id"],
            company=records["company_id"], deal=records["deal_id"], job=job["import_id"],
            export=export["export_id"],
            form=form["id"], form_key=form["public_key"],
        )  # fmt: skip

    # ------------------------------------------------------------------ requests of each route
    def requests(self, route: str, n: int) -> list[ApiCall]:
        """``n`` requests of ``route`` (``"GET /leads/{id}"``), their targets made first."""
        make = ROUTES.get(route)
        if make is None:
            raise KeyError(f"the benchmark has no requests for {route}: add them to ROUTES")
        return make(self, n)

    def _leads(self, n: int) -> list[int]:
        return [self.new_lead() for _ in range(n)]

    def _children(self, kind: str, body: dict[str, Any], n: int) -> tuple[int, list[int]]:
        lead = self.new_lead()
        return lead, [self.call("POST", f"/leads/{lead}/{kind}", body)["id"] for _ in range(n)]


def _same(method: str, path: str, query: Mapping[str, str] | None = None, body: Any = None) -> RequestMaker:
    """The same request ``n`` times; ``{lead}`` etc. are the tenant's fixture ids."""

    def make(tenant: BenchTenant, n: int) -> list[ApiCall]:
        return [ApiCall(method, path.format(**tenant.ids), query, body)] * n

    return make


def _edits(path: str, body: dict[str, Any], changed: str) -> RequestMaker:
    """A PUT that changes ``changed`` each time (the same body again would write nothing)."""

    def make(tenant: BenchTenant, n: int) -> list[ApiCall]:
        target = path.format(**tenant.ids)
        return [
            ApiCall("PUT", target, None, {**body, changed: f"Edit {uuid.uuid4().hex[:8]}"}) for _ in range(n)
        ]

    return make


def _creates(tenant: BenchTenant, n: int) -> list[ApiCall]:
    emails = [f"new-{uuid.uuid4().hex[:10]}@example.com" for _ in range(n)]
    return [ApiCall("POST", "/leads", None, {**LEAD, "email": email}) for email in emails]


def _each_lead(method: str, suffix: str, body: Any = None) -> RequestMaker:
    def make(tenant: BenchTenant, n: int) -> list[ApiCall]:
        return [ApiCall(method, f"/leads/{lead}{suffix}", None, body) for lead in tenant._leads(n)]

    return make


def _restores(tenant: BenchTenant, n: int) -> list[ApiCall]:
    """A restore of each of ``n`` new leads, deleted first."""
    leads = tenant._leads(n)
    for lead in leads:
        tenant.call("DELETE", f"/leads/{lead}")
    return [ApiCall("POST", f"/leads/{lead}/restore") for lead in leads]


def _merges(tenant: BenchTenant, n: int) -> list[ApiCall]:
    """``n`` merges, each of a new lead (with a note) into another new lead."""
    calls = []
    for _ in range(n):
        survivor, other = tenant.new_lead(), tenant.new_lead(phone="+1 555 0100")
        tenant.call("POST", f"/leads/{other}/notes", {"content": "Met at the fair."})
        calls.append(ApiCall("POST", f"/leads/{survivor}/merge", None, {"merge_ids": [other]}))
    return calls


def _undos(tenant: BenchTenant, n: int) -> list[ApiCall]:
    """The undo of each of ``n`` new merges (as ``_merges`` makes them)."""
    calls = []
    for merge in _merges(tenant, n):
        merge_id = tenant.call(merge.method, merge.path, merge.body)["merge_id"]
        survivor = merge.path.removesuffix("/merge")
        calls.append(ApiCall("POST", f"{survivor}/merges/{merge_id}/undo"))
    return calls


def _each_child(kind: str, body: dict[str, Any]) -> RequestMaker:
    def make(tenant: BenchTenant, n: int) -> list[ApiCall]:
        lead, children = tenant._children(kind, body, n)
        return [ApiCall("DELETE", f"/leads/{lead}/{kind}/{child}") for child in children]

    return make


def _added(kind: str, body: dict[str, Any]) -> RequestMaker:
    def make(tenant: BenchTenant, n: int) -> list[ApiCall]:
        lead = tenant.new_lead()
        return [ApiCall("POST", f"/leads/{lead}/{kind}", None, body)] * n

    return make


# A form whose posts each make a lead: no timing token to fetch first (a server's post), limits
# well above the benchmark's requests.
FORM = {
    "name": "Bench sign-up",
    "fields": [
        {"name": "first_name", "label": "First name", "required": True},
        {"name": "last_name", "label": "Last name", "required": True},
        {"name": "email", "label": "Email", "type": "email", "required": True},
    ],
    "source": "Website",
    "owner_id": 2,
    "allowed_origins": ["https://www.example.com"],
    "timing_check": False,
    "rate_limit_per_minute": 10_000,
    "rate_limit_per_ip_per_minute": 1_000,
}


def _form_posts(tenant: BenchTenant, n: int) -> list[ApiCall]:
    path = "/f/{form_key}".format(**tenant.ids)
    emails = [f"ada-{uuid.uuid4().hex[:8]}@example.com" for _ in range(n)]
    return [
        ApiCall("POST", path, None, {"first_name": "Ada", "last_name": "Doe", "email": to}) for to in emails
    ]


def _preflights(tenant: BenchTenant, n: int) -> list[ApiCall]:
    """A browser's question before a cross-origin post, from an origin the form allows."""
    asked = {"Origin": "https://www.example.com", "Access-Control-Request-Method": "POST"}
    return [ApiCall("OPTIONS", "/f/{form_key}".format(**tenant.ids), None, None, asked)] * n


def _new_forms(tenant: BenchTenant, n: int) -> list[ApiCall]:
    return [ApiCall("POST", "/lead-forms", None, FORM) for _ in range(n)]


def _user() -> dict[str, Any]:
    return {"name": "Dana Diaz", "email": f"dana-{uuid.uuid4().hex[:10]}@example.com"}


def _new_users(tenant: BenchTenant, n: int) -> list[ApiCall]:
    return [ApiCall("POST", "/users", None, _user()) for _ in range(n)]


STAGE = {"name": "Discovery", "position": 2, "probability": 20}


def _each_made(
    kind: str, made: Callable[[], dict[str, Any]], body: Callable[[], dict[str, Any]] | None = None
) -> RequestMaker:
    """A request on each of ``n`` new users, teams or stages (a PUT with a body that changes it)."""

    def make(tenant: BenchTenant, n: int) -> list[ApiCall]:
        ids = [tenant.call("POST", f"/{kind}", made())["id"] for _ in range(n)]
        method = "PUT" if body else "DELETE"
        return [ApiCall(method, f"/{kind}/{i}", None, body() if body else None) for i in ids]

    return make


def _erasures(tenant: BenchTenant, n: int) -> list[ApiCall]:
    """An erasure of an address one new lead of the tenant has (the others keep theirs)."""
    emails = [f"erase-{uuid.uuid4().hex[:10]}@example.com" for _ in range(n)]
    for email in emails:
        tenant.call("POST", "/leads", {**LEAD, "email": email})
    return [ApiCall("POST", "/privacy/erasure", None, {"email": email}) for email in emails]


SCIM_PREFIX = "/scim/"
RequestMaker = Callable[[BenchTenant, int], list[ApiCall]]
ROUTES: dict[str, RequestMaker] = {
    "GET /leads": _same("GET", "/leads"),
    "POST /leads": _creates,
    "GET /leads/{id}": _same("GET", "/leads/{lead}"),
    "PUT /leads/{id}": _edits("/leads/{lead}", {**LEAD, "email": "john.doe@example.com"}, "notes"),
    "DELETE /leads/{id}": _each_lead("DELETE", ""),
    "GET /leads/trash": _same("GET", "/leads/trash"),
    "POST /leads/{id}/restore": _restores,
    "GET /leads/{id}/timeline": _same("GET", "/leads/{lead}/timeline"),
    "GET /leads/{id}/history": _same("GET", "/leads/{lead}/history", {"field": "status"}),
    "GET /leads/{id}/duplicates": _same("GET", "/leads/{lead}/duplicates"),
    "POST /leads/{id}/merge": _merges,
    "GET /leads/{id}/merges": _same("GET", "/leads/{lead}/merges"),
    "POST /leads/{id}/merges/{merge_id}/undo": _undos,
    "POST /leads/{id}/qualify": _each_lead("POST", "/qualify", {"create_company": True, "create_deal": True}),
    "PUT /leads/{id}/disqualify": _each_lead("PUT", "/disqualify", {"reason": "No budget this year."}),
    "GET /leads/match-company": _same("GET", "/leads/match-company", {"company": "Doe"}),
    "GET /leads/match-contact": _same("GET", "/leads/match-contact", {"email": "JOHN.DOE@example.com"}),
    "GET /leads/{id}/notes": _same("GET", "/leads/{lead}/notes"),
    "POST /leads/{id}/notes": _added("notes", {"content": "Asked for a second demo."}),
    "DELETE /leads/{id}/notes/{noteId}": _each_child("notes", {"content": "to delete"}),
    "GET /leads/{id}/tasks": _same("GET", "/leads/{lead}/tasks"),
    "POST /leads/{id}/tasks": _added("tasks", {"title": "Call back", "priority": "high", "assigned_to": 2}),
    "PUT /leads/{id}/tasks/{taskId}": _edits("/leads/{lead}/tasks/{task}", {"completed": True}, "title"),
    "DELETE /leads/{id}/tasks/{taskId}": _each_child("tasks", {"title": "to delete"}),
    "GET /contacts/{id}": _same("GET", "/contacts/{contact}"),
    "GET /companies/{id}": _same("GET", "/companies/{company}"),
    "GET /deals/{id}": _same("GET", "/deals/{deal}"),
    "GET /leads/template": _same("GET", "/leads/template"),
    "GET /leads/export": _same("GET", "/leads/export"),
    "POST /leads/import": _same("POST", "/leads/import", body={"filename": "bench.csv", "mode": "skip"}),
    "GET /leads/imports/{import_id}": _same("GET", "/leads/imports/{job}"),
    "POST /leads/exports": _same("POST", "/leads/exports", {"status": "new"}),
    "GET /leads/exports/{export_id}": _same("GET", "/leads/exports/{export}"),
    "GET /health": _same("GET", "/health"),
    "GET /openapi.json": _same("GET", "/openapi.json"),
    "GET /docs": _same("GET", "/docs"),
    "GET /leads/{id}/linked-emails": _same("GET", "/leads/{lead}/linked-emails"),
    "POST /leads/{id}/linked-emails": _added("linked-emails", LOGGED_EMAIL),
    "GET /leads/{id}/linked-emails/{emailId}": _same("GET", "/leads/{lead}/linked-emails/{email}"),
    "DELETE /leads/{id}/linked-emails/{emailId}": _each_child("linked-emails", LOGGED_EMAIL),
    "POST /tenant/scim-token": _same("POST", "/tenant/scim-token"),
    "GET /me": _same("GET", "/me"),
    "GET /users": _same("GET", "/users"),
    "POST /users": _new_users,
    "GET /users/{id}": _same("GET", "/users/2"),
    "PUT /users/{id}": _each_made("users", _user, lambda: {**_user(), "name": "Renamed"}),
    "DELETE /users/{id}": _each_made("users", _user),
    "GET /teams": _same("GET", "/teams"),
    "POST /teams": _same("POST", "/teams", body={"name": "Field sales"}),
    "GET /teams/{id}": _same("GET", "/teams/1"),
    "PUT /teams/{id}": _each_made("teams", lambda: {"name": "EMEA"}, lambda: {"name": "APAC"}),
    "DELETE /teams/{id}": _each_made("teams", lambda: {"name": "EMEA"}),
    "GET /deal-stages": _same("GET", "/deal-stages"),
    "POST /deal-stages": _same("POST", "/deal-stages", body=STAGE),
    "GET /deal-stages/{id}": _same("GET", "/deal-stages/1"),
    "PUT /deal-stages/{id}": _each_made("deal-stages", lambda: STAGE, lambda: {**STAGE, "position": 9}),
    "DELETE /deal-stages/{id}": _each_made("deal-stages", lambda: STAGE),
    "GET /tenant": _same("GET", "/tenant"),
    "PUT /tenant": _edits("/tenant", {"currency": "EUR"}, "name"),
    "POST /tenant/inbound-address": _same("POST", "/tenant/inbound-address"),
    "POST /privacy/erasure": _erasures,
    "GET /privacy/erasures": _same("GET", "/privacy/erasures"),
    "GET /lead-forms": _same("GET", "/lead-forms"),
    "POST /lead-forms": _new_forms,
    "GET /lead-forms/{id}": _same("GET", "/lead-forms/{form}"),
    "PUT /lead-forms/{id}": _each_made("lead-forms", lambda: FORM, lambda: {**FORM, "name": "Renamed"}),
    "DELETE /lead-forms/{id}": _each_made("lead-forms", lambda: FORM),
    "GET /lead-forms/{id}/submissions": _same("GET", "/lead-forms/{form}/submissions"),
    "GET /f/{form_key}": _same("GET", "/f/{form_key}"),
    "POST /f/{form_key}": _form_posts,
    "OPTIONS /f/{form_key}": _preflights,
    "GET /f/{form_key}/embed.js": _same("GET", "/f/{form_key}/embed.js"),
}  # fmt: skip
