"""How to make a successful request to every route of the template, as rows the security tests
share: each row makes the objects its route needs (through the API, as the tenant's admin) and
says what the route answers.

The SCIM routes (``/scim/v2``) take the tenant's SCIM token, not a JWT: their rows are
``SCIM_ROWS``, sent with the tenant's SCIM token (``World.scim``); every other route's row is in
``ROWS``. Together they cover the template's routes, each once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from devstack.template import Template
from leads_shared.data import get_directory_store, get_form_store
from leads_shared.form_spam import issue_token
from leads_shared.models.directory import DealStage
from leads_shared.models.forms import LeadForm
from tests.support.clients import Caller, Tenant, lead_body

ROUTES = sorted({(r.method, r.path) for r in Template.load().api_routes() if r.method != "ANY"})
# The public side of lead forms: no token; a form's public key in the path (no tenant).
PUBLIC_FORM = {
    ("GET", "/f/{form_key}"),
    ("POST", "/f/{form_key}"),
    ("OPTIONS", "/f/{form_key}"),
    ("GET", "/f/{form_key}/embed.js"),
}
PUBLIC = {("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/docs"), *PUBLIC_FORM}
ADMIN_ONLY = {
    ("GET", "/leads/template"),
    ("GET", "/leads/export"),
    ("POST", "/leads/exports"),
    ("GET", "/leads/exports/{export_id}"),
    *((method, path) for path in ("/users", "/teams", "/deal-stages") for method in ("POST",)),
    *(
        (method, f"{path}/{{id}}")
        for path in ("/users", "/teams", "/deal-stages")
        for method in ("PUT", "DELETE")
    ),
    ("GET", "/tenant"),
    ("PUT", "/tenant"),
    ("POST", "/tenant/inbound-address"),
    ("POST", "/tenant/scim-token"),
    ("GET", "/lead-forms"),
    ("POST", "/lead-forms"),
    *((method, "/lead-forms/{id}") for method in ("GET", "PUT", "DELETE")),
    ("GET", "/lead-forms/{id}/submissions"),
    ("POST", "/privacy/erasure"),
    ("GET", "/privacy/erasures"),
}
SCIM_MEDIA_TYPE = "application/scim+json"


@dataclass
class Call:
    """One request a caller makes, and the status it answers when the caller may make it."""

    method: str
    path: str
    body: Any = None
    query: dict[str, Any] | None = None
    status: int = 200
    cost: dict[str, Any] = field(default_factory=dict)  # of the last send: DynamoDB requests
    headers: dict[str, str] = field(default_factory=dict)

    def send(self, caller: Caller, authorization: str | None = "caller's") -> Any:
        """Sent with the caller's token, or with this Authorization header (None: none)."""
        headers = dict(self.headers)
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

    def trashed(self, deleter: Caller) -> int:
        """A lead of the tenant in the recycle bin, deleted by ``deleter`` (who may restore it)."""
        lead = self.lead()
        assert deleter.delete(f"/leads/{lead}").status_code == 200
        return lead

    def merge_body(self) -> dict[str, Any]:
        """A merge of another new lead (into whichever lead the path names)."""
        return {"merge_ids": [self.lead()]}

    def undo_path(self) -> str:
        """The undo of a new merge of the tenant."""
        survivor = self.lead()
        merged = self.admin.post(f"/leads/{survivor}/merge", self.merge_body())
        return f"/leads/{survivor}/merges/{self._made(merged, 'merge_id')}/undo"

    def note(self, lead: int, author: Caller) -> int:
        return int(self._made(author.post(f"/leads/{lead}/notes", {"content": "Called."})))

    def task(self, lead: int) -> int:
        return int(self._made(self.admin.post(f"/leads/{lead}/tasks", {"title": "Follow up"})))

    def email(self, lead: int) -> int:
        body = {"subject": "Hello", "body": "Hi.", "direction": "outbound", "sent_at": "2026-01-02T03:04:05Z"}
        return int(self._made(self.admin.post(f"/leads/{lead}/linked-emails", body)))

    def import_id(self) -> str:
        return str(self._made(self.admin.post("/leads/import", {"filename": "leads.csv"}), "import_id"))

    def export_id(self) -> str:
        """A queued export job of the tenant (no worker runs it here)."""
        response = self.admin.post("/leads/exports")
        assert response.status_code == 202, response.json
        return str(response.json["export_id"])

    def user(self) -> int:
        return int(self._made(self.admin.post("/users", _user_body("dana"))))

    def team(self) -> int:
        return int(self._made(self.admin.post("/teams", {"name": "Field sales"})))

    def stage(self) -> int:
        return int(self._made(self.admin.post("/deal-stages", {"name": "Discovery", "position": 2})))

    def scim_token(self) -> str:
        """A new SCIM token of the tenant (the previous one is revoked)."""
        return str(self._made(self.admin.post("/tenant/scim-token"), "token"))

    def form(self) -> int:
        return int(self._made(self.admin.post("/lead-forms", FORM)))

    @cached_property
    def public_form(self) -> LeadForm:
        """A form of the tenant (its rate limits high enough for every call a test repeats)."""
        body = {**FORM, "rate_limit_per_ip_per_minute": 1000, "rate_limit_per_minute": 1000}
        found = get_form_store().form(self.tenant.tenant_id, self._made(self.admin.post("/lead-forms", body)))
        assert found is not None
        return found

    @property
    def form_path(self) -> str:
        return f"/f/{self.public_form.public_key}"

    def submission(self) -> dict[str, Any]:
        """What a visitor posts to ``public_form`` (its time token issued 5 s ago)."""
        form = self.public_form
        return {**lead_body(), "consent": True, "_ts": issue_token(form, time.time() - 5)}

    @cached_property
    def scim(self) -> Caller:
        """The tenant's identity provider: a caller with the tenant's SCIM token."""
        return Caller(self.tenant.gateway, self.tenant.tenant_id, 0, "scim", self.scim_token())

    @cached_property
    def records(self) -> dict[str, int]:
        lead = self.lead(company="Initech")
        result = self.admin.post(f"/leads/{lead}/qualify", {"create_company": True, "create_deal": True})
        assert result.status_code == 200, result.json
        return result.json


Row = Callable[[World, Caller], Call]
FORM = {
    "name": "Contact us",
    "fields": [
        {"name": "first_name", "label": "First name", "required": True},
        {"name": "last_name", "label": "Last name", "required": True},
        {"name": "email", "label": "Email", "type": "email"},
        {"name": "consent", "label": "I agree", "type": "checkbox", "required": True},
    ],
    "allowed_origins": ["https://www.example.com"],
    "consent_text": "We may contact you.",
}
PREFLIGHT = {"Origin": "https://www.example.com", "Access-Control-Request-Method": "POST"}
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


def _user_body(name: str) -> dict[str, Any]:
    return {"name": name.title(), "email": f"{name}.{uuid.uuid4().hex[:8]}@example.com"}


STAGE = {"name": "Demo", "position": 3}


def _directory(kind: str, method: str, body: Callable[[], Any] | None = None) -> Row:
    """A row for a route on a new user, team or deal stage of the tenant."""

    def row(w: World, c: Caller) -> Call:
        made = {"users": w.user, "teams": w.team, "deal-stages": w.stage}[kind]()
        return Call(method, f"/{kind}/{made}", body() if body else None)

    return row


ROWS: dict[tuple[str, str], Row] = {
    ("GET", "/leads"): lambda w, c: Call("GET", "/leads"),
    ("POST", "/leads"): lambda w, c: Call("POST", "/leads", lead_body(), status=201),
    ("GET", "/leads/{id}"): _lead("", "GET"),
    ("PUT", "/leads/{id}"): _lead("", "PUT", lead_body(first_name="Jo")),
    ("DELETE", "/leads/{id}"): _lead("", "DELETE"),
    ("POST", "/leads/{id}/qualify"): _lead("/qualify", "POST", {}),
    ("PUT", "/leads/{id}/disqualify"): _lead("/disqualify", "PUT", {"reason": "No budget"}),
    ("GET", "/leads/trash"): lambda w, c: Call("GET", "/leads/trash"),
    ("POST", "/leads/{id}/restore"): lambda w, c: Call("POST", f"/leads/{w.trashed(c)}/restore"),
    ("GET", "/leads/{id}/timeline"): _lead("/timeline", "GET"),
    ("GET", "/leads/{id}/history"): _lead("/history", "GET"),
    ("GET", "/leads/{id}/duplicates"): _lead("/duplicates", "GET"),
    ("POST", "/leads/{id}/merge"): lambda w, c: Call("POST", f"/leads/{w.lead()}/merge", w.merge_body()),
    ("GET", "/leads/{id}/merges"): _lead("/merges", "GET"),
    ("POST", "/leads/{id}/merges/{merge_id}/undo"): lambda w, c: Call("POST", w.undo_path()),
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
    ("POST", "/leads/exports"): lambda w, c: Call("POST", "/leads/exports", status=202),
    ("GET", "/leads/exports/{export_id}"): lambda w, c: Call("GET", f"/leads/exports/{w.export_id()}"),
    ("GET", "/me"): lambda w, c: Call("GET", "/me"),
    ("GET", "/users"): lambda w, c: Call("GET", "/users"),
    ("POST", "/users"): lambda w, c: Call("POST", "/users", _user_body("eve"), status=201),
    ("GET", "/users/{id}"): _directory("users", "GET"),
    ("PUT", "/users/{id}"): _directory("users", "PUT", lambda: _user_body("dana")),
    ("DELETE", "/users/{id}"): _directory("users", "DELETE"),
    ("GET", "/teams"): lambda w, c: Call("GET", "/teams"),
    ("POST", "/teams"): lambda w, c: Call("POST", "/teams", {"name": "Inside sales"}, status=201),
    ("GET", "/teams/{id}"): _directory("teams", "GET"),
    ("PUT", "/teams/{id}"): _directory("teams", "PUT", lambda: {"name": "Renamed"}),
    ("DELETE", "/teams/{id}"): _directory("teams", "DELETE"),
    ("GET", "/deal-stages"): lambda w, c: Call("GET", "/deal-stages"),
    ("POST", "/deal-stages"): lambda w, c: Call("POST", "/deal-stages", STAGE, status=201),
    ("GET", "/deal-stages/{id}"): _directory("deal-stages", "GET"),
    ("PUT", "/deal-stages/{id}"): _directory("deal-stages", "PUT", lambda: {**STAGE, "position": 4}),
    ("DELETE", "/deal-stages/{id}"): _directory("deal-stages", "DELETE"),
    ("GET", "/tenant"): lambda w, c: Call("GET", "/tenant"),
    ("PUT", "/tenant"): lambda w, c: Call("PUT", "/tenant", {"name": "Initech", "currency": "eur"}),
    ("POST", "/tenant/inbound-address"): lambda w, c: Call("POST", "/tenant/inbound-address"),
    ("POST", "/tenant/scim-token"): lambda w, c: Call("POST", "/tenant/scim-token", status=201),
    ("POST", "/privacy/erasure"): lambda w, c: Call(
        "POST", "/privacy/erasure", {"email": f"gone.{uuid.uuid4().hex[:8]}@erased.example"}
    ),
    ("GET", "/privacy/erasures"): lambda w, c: Call("GET", "/privacy/erasures"),
    ("GET", "/health"): lambda w, c: Call("GET", "/health"),
    ("GET", "/openapi.json"): lambda w, c: Call("GET", "/openapi.json"),
    ("GET", "/docs"): lambda w, c: Call("GET", "/docs"),
    ("GET", "/lead-forms"): lambda w, c: Call("GET", "/lead-forms"),
    ("POST", "/lead-forms"): lambda w, c: Call("POST", "/lead-forms", FORM, status=201),
    ("GET", "/lead-forms/{id}"): lambda w, c: Call("GET", f"/lead-forms/{w.form()}"),
    ("PUT", "/lead-forms/{id}"): lambda w, c: Call("PUT", f"/lead-forms/{w.form()}", {**FORM, "name": "Hi"}),
    ("DELETE", "/lead-forms/{id}"): lambda w, c: Call("DELETE", f"/lead-forms/{w.form()}"),
    ("GET", "/lead-forms/{id}/submissions"): lambda w, c: Call("GET", f"/lead-forms/{w.form()}/submissions"),
    ("GET", "/f/{form_key}"): lambda w, c: Call("GET", f"/f/{w.public_form.public_key}"),
    ("GET", "/f/{form_key}/embed.js"): lambda w, c: Call("GET", f"/f/{w.public_form.public_key}/embed.js"),
    ("POST", "/f/{form_key}"): lambda w, c: Call("POST", w.form_path, w.submission(), status=201),
    ("OPTIONS", "/f/{form_key}"): lambda w, c: Call("OPTIONS", w.form_path, status=204, headers=PREFLIGHT),
}  # fmt: skip


USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _scim(
    method: str, path: str, body: Any = None, status: int = 200, query: dict[str, Any] | None = None
) -> Call:
    return Call(
        method, f"/scim/v2{path}", body, query=query, status=status, headers={"Accept": SCIM_MEDIA_TYPE}
    )


def scim_user(**fields: Any) -> dict[str, Any]:
    email = f"sam.{uuid.uuid4().hex[:8]}@example.com"
    return {"schemas": [USER_SCHEMA], "userName": email, "displayName": "Sam Scim", **fields}


def scim_patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


OPS = {"schemas": [GROUP_SCHEMA], "displayName": "Ops"}
DEACTIVATE = scim_patch({"op": "replace", "path": "active", "value": False})
ADD_CAROL = scim_patch({"op": "add", "path": "members", "value": [{"value": "3"}]})
FIND_USER = {"filter": 'userName eq "user1@x.com"'}

# Rows of the SCIM routes: made with the tenant's SCIM token (``World.scim``), sent with it.
SCIM_ROWS: dict[tuple[str, str], Row] = {
    ("GET", "/scim/v2/ServiceProviderConfig"): lambda w, c: _scim("GET", "/ServiceProviderConfig"),
    ("GET", "/scim/v2/ResourceTypes"): lambda w, c: _scim("GET", "/ResourceTypes"),
    ("GET", "/scim/v2/ResourceTypes/{id}"): lambda w, c: _scim("GET", "/ResourceTypes/User"),
    ("GET", "/scim/v2/Schemas"): lambda w, c: _scim("GET", "/Schemas"),
    ("GET", "/scim/v2/Schemas/{id}"): lambda w, c: _scim("GET", f"/Schemas/{USER_SCHEMA}"),
    ("GET", "/scim/v2/Users"): lambda w, c: _scim("GET", "/Users", query=FIND_USER),
    ("POST", "/scim/v2/Users"): lambda w, c: _scim("POST", "/Users", scim_user(), status=201),
    ("GET", "/scim/v2/Users/{id}"): lambda w, c: _scim("GET", f"/Users/{w.user()}"),
    ("PUT", "/scim/v2/Users/{id}"): lambda w, c: _scim("PUT", f"/Users/{w.user()}", scim_user()),
    ("PATCH", "/scim/v2/Users/{id}"): lambda w, c: _scim("PATCH", f"/Users/{w.user()}", DEACTIVATE),
    ("DELETE", "/scim/v2/Users/{id}"): lambda w, c: _scim("DELETE", f"/Users/{w.user()}", status=204),
    ("GET", "/scim/v2/Groups"): lambda w, c: _scim("GET", "/Groups"),
    ("POST", "/scim/v2/Groups"): lambda w, c: _scim("POST", "/Groups", OPS, status=201),
    ("GET", "/scim/v2/Groups/{id}"): lambda w, c: _scim("GET", f"/Groups/{w.team()}"),
    ("PUT", "/scim/v2/Groups/{id}"): lambda w, c: _scim("PUT", f"/Groups/{w.team()}", OPS),
    ("PATCH", "/scim/v2/Groups/{id}"): lambda w, c: _scim("PATCH", f"/Groups/{w.team()}", ADD_CAROL),
    ("DELETE", "/scim/v2/Groups/{id}"): lambda w, c: _scim("DELETE", f"/Groups/{w.team()}", status=204),
}  # fmt: skip


def _key_attributes() -> frozenset[str]:
    template = Template.load()
    (table_id,) = template.resources_of_type("AWS::DynamoDB::Table")
    definitions = template.properties(table_id)["AttributeDefinitions"]
    return frozenset(definition["AttributeName"] for definition in definitions)


# The table's key attributes (from the template, so a new index is covered), and what else a
# response must never carry: the tenant (it comes from the token) and the stored version (ETag).
HIDDEN = _key_attributes() | {"tenant_id", "version"}


def hidden_in(value: Any) -> set[str]:
    """The hidden attribute names anywhere in a JSON value."""
    if isinstance(value, dict):
        return {name for name in value if name in HIDDEN}.union(*map(hidden_in, value.values()))
    if isinstance(value, list):
        return set().union(*map(hidden_in, value))
    return set()


# The routes that read a JSON body: every POST and PUT but those that read none (issuing a SCIM
# token; starting an export job, whose filters are query parameters as GET /leads/export's;
# restoring a deleted lead; undoing a merge) and
# a public form's post (it also takes browser forms, needs no token, and has its own limits:
# test_lead_forms.py).
READS_NO_BODY = {
    ("POST", "/tenant/scim-token"),
    ("POST", "/leads/exports"),
    ("POST", "/leads/{id}/restore"),
    ("POST", "/leads/{id}/merges/{merge_id}/undo"),
}
WITH_JSON_BODY = [
    route
    for route in ROWS
    if route[0] in ("POST", "PUT") and route not in READS_NO_BODY and route not in PUBLIC_FORM
]
