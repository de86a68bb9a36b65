"""The API's users as tests call it: a tenant with its demo users, each calling through the local
API Gateway with their own token, and what each request cost in DynamoDB (``last_cost``)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from werkzeug.test import Client, TestResponse

from devstack.tokens import mint_token
from leads_shared.data import get_directory_store
from leads_shared.data.dynamo import meter
from leads_shared.models.directory import Team, User

TEAM_OF = {1: 1, 2: 1, 3: 2}
TEAMS = {1: "Inbound", 2: "Enterprise"}
NAMES = {1: "Alice Admin", 2: "Bob Baker", 3: "Carol Chen"}


@dataclass
class Caller:
    """One user of one tenant, calling the API with their token (or ``token=None``: none)."""

    gateway: Client
    tenant_id: str
    user_id: int
    role: str
    token: str | None
    last_cost: dict[str, Any] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        data: str | bytes | None = None,
    ) -> TestResponse:
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        if json_body is not None:
            data = json.dumps(json_body)
            sent.setdefault("Content-Type", "application/json")
        meter.reset()
        response = self.gateway.open(path, method=method, query_string=query, headers=sent, data=data)
        self.last_cost = meter.snapshot()
        return response

    def get(self, path: str, **kw: Any) -> TestResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> TestResponse:
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> TestResponse:
        return self.request("PUT", path, json_body=body, **kw)

    def delete(self, path: str, **kw: Any) -> TestResponse:
        return self.request("DELETE", path, **kw)


@dataclass
class Tenant:
    tenant_id: str
    gateway: Client

    def as_user(self, user_id: int = 2, **claims: Any) -> Caller:
        """A user signed in already: the container knows them (``identity``), so what each of
        their requests costs is the route's own (a caller's first request in a container also
        reads the directory)."""
        role = "admin" if user_id == 1 else "user"
        claims.setdefault("team_id", TEAM_OF.get(user_id))
        token = mint_token(user_id, self.tenant_id, role=role, **claims)
        caller = Caller(self.gateway, self.tenant_id, user_id, role, token)
        # (GET /users/{id} reads only the directory; a refused token gets its 401 here, and later)
        caller.get(f"/users/{user_id}")
        return caller

    def anonymous(self) -> Caller:
        return Caller(self.gateway, self.tenant_id, 0, "user", None)


def make_tenant(gateway: Client) -> Tenant:
    tenant_id = f"t-{uuid.uuid4().hex[:12]}"
    store = get_directory_store()
    for team_id, team_name in TEAMS.items():
        store.put_team(Team(tenant_id=tenant_id, id=team_id, name=team_name))
    for user_id, team_id in TEAM_OF.items():
        store.put_user(
            User(
                tenant_id=tenant_id,
                id=user_id,
                name=NAMES[user_id],
                email=f"user{user_id}@{tenant_id}.com",
                role="admin" if user_id == 1 else "user",
                team_id=team_id,
            )
        )
    return Tenant(tenant_id, gateway)


def lead_body(**fields: Any) -> dict[str, Any]:
    body = {"first_name": "John", "last_name": "Doe", "email": "john.doe@example.com"}
    body.update(fields)
    return body
