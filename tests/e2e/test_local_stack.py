"""What a developer does against `make dev` with curl, over real HTTP: the demo data, the lead
life cycle, tenant isolation, and the error envelopes of the contract."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

from devstack.template import Template
from tests.integration.route_rows import PUBLIC, PUBLIC_FORM

pytestmark = pytest.mark.e2e

TIMEOUT_S = 30
LEAKS = ("PK", "SK", "GSI", "Traceback", "botocore")  # storage keys and internals
PAGE_KEYS = {"data", "current_page", "last_page", "per_page", "total", "next_cursor", "total_capped"}

NEW_LEAD = {  # the contract's "Create lead" example, filled in
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada.lovelace@example.com",
    "phone": "+1-555-0199",
    "company": "Analytical Engines",
    "job_title": "CTO",
    "source": "Website",
    "status": "new",
    "notes": "Met at the booth.",
    "tags": "vip",
    "assigned_to": 2,
}


def call(base_url: str, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    """One HTTP request; no answer may show storage keys, stack traces or SDK internals."""
    response = requests.request(method, base_url + path, headers=headers, timeout=TIMEOUT_S, **kw)
    leaked = [word for word in LEAKS if word in response.text]
    assert not leaked, f"{method} {path} -> {response.status_code} shows {leaked}: {response.text[:500]}"
    return response


def json_body(response: Any) -> Any:
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    return response.json()


def name_order(lead: dict[str, Any]) -> tuple[str, str, int]:
    return lead["first_name"].casefold(), lead["last_name"].casefold(), lead["id"]


def test_health_answers_without_a_token(base_url: str) -> None:
    response = call(base_url, "GET", "/health")
    assert response.status_code == 200
    assert isinstance(json_body(response), dict)


def test_acme_lists_its_demo_leads_by_name_25_per_page(base_url: str, acme_admin: dict[str, str]) -> None:
    first = call(base_url, "GET", "/leads", acme_admin)
    assert first.status_code == 200, first.text
    page = json_body(first)
    assert set(page) == PAGE_KEYS
    assert (page["total"], page["per_page"], page["current_page"], page["last_page"]) == (50, 25, 1, 2)
    second = json_body(call(base_url, "GET", "/leads", acme_admin, params={"page": 2}))
    assert (second["total"], second["current_page"], second["last_page"]) == (50, 2, 2)

    leads = page["data"] + second["data"]
    assert len(page["data"]) == len(second["data"]) == 25
    assert len({lead["id"] for lead in leads}) == 50
    assert leads == sorted(leads, key=name_order), "the default order is by name"


def test_globex_sees_none_of_acme_leads(
    base_url: str, acme_admin: dict[str, str], globex_admin: dict[str, str]
) -> None:
    acme_lead = json_body(call(base_url, "GET", "/leads", acme_admin, params={"per_page": 1}))["data"][0]
    assert call(base_url, "GET", f"/leads/{acme_lead['id']}", acme_admin).status_code == 200

    listed = call(base_url, "GET", "/leads", globex_admin)
    assert listed.status_code == 200
    page = json_body(listed)
    assert (page["data"], page["total"]) == ([], 0)

    response = call(base_url, "GET", f"/leads/{acme_lead['id']}", globex_admin)
    assert response.status_code == 404
    body = json_body(response)
    assert set(body) == {"message"}
    assert acme_lead["email"] not in response.text


def test_lead_life_cycle(base_url: str, acme_user: dict[str, str]) -> None:
    created = call(base_url, "POST", "/leads", acme_user, json=NEW_LEAD)
    assert created.status_code == 201, created.text
    lead = json_body(created)
    lead_id = lead["id"]
    try:
        assert isinstance(lead_id, int)
        assert {key: lead[key] for key in NEW_LEAD} == NEW_LEAD
        created_etag = created.headers["ETag"]

        fetched = call(base_url, "GET", f"/leads/{lead_id}", acme_user)
        assert fetched.status_code == 200
        assert json_body(fetched) == {**lead, "lead_notes": []}
        assert fetched.headers["ETag"] == created_etag

        change = {**NEW_LEAD, "status": "contacted", "notes": "Called back."}
        updated = call(
            base_url, "PUT", f"/leads/{lead_id}", {**acme_user, "If-Match": created_etag}, json=change
        )
        assert updated.status_code == 200, updated.text
        assert {key: json_body(updated)[key] for key in change} == change
        assert updated.headers["ETag"] != created_etag

        stale = call(
            base_url,
            "PUT",
            f"/leads/{lead_id}",
            {**acme_user, "If-Match": created_etag},
            json={**NEW_LEAD, "status": "qualified"},
        )
        assert stale.status_code == 412
        assert set(json_body(stale)) == {"message"}
        current = json_body(call(base_url, "GET", f"/leads/{lead_id}", acme_user))
        assert current["status"] == "contacted", "a refused write must not change the lead"

        deleted = call(base_url, "DELETE", f"/leads/{lead_id}", acme_user)
        assert 200 <= deleted.status_code < 300, deleted.text
        gone = call(base_url, "GET", f"/leads/{lead_id}", acme_user)
        assert gone.status_code == 404
        assert set(json_body(gone)) == {"message"}
    finally:  # keep acme's 50 demo leads for the other tests, even when this one fails
        call(base_url, "DELETE", f"/leads/{lead_id}", acme_user)


@pytest.mark.parametrize(
    "route",
    sorted(
        (route.method, re.sub(r"\{\w+\+?\}", "1", route.path))
        for route in Template.load().api_routes()
        if (route.method, route.path) not in PUBLIC and route.method != "ANY"  # ANY: 404/405 fallbacks
    ),
    ids=" ".join,
)
def test_no_token_is_401(base_url: str, route: tuple[str, str]) -> None:
    method, path = route
    # Even an invalid body must not be described to a caller without a token.
    body = {"first_name": ""} if method in ("POST", "PUT") else None
    response = call(base_url, method, path, {"Accept": "application/json"}, json=body)
    assert response.status_code == 401
    if path.startswith("/scim/"):  # SCIM's own error body, for identity providers
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
        assert response.headers["Content-Type"].startswith("application/scim+json")
        assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert response.json()["status"] == "401"
        return
    assert response.headers.get("WWW-Authenticate") == "Bearer"
    assert json_body(response) == {"message": "Unauthenticated."}


@pytest.mark.parametrize("route", sorted(PUBLIC_FORM), ids=" ".join)
def test_the_public_form_routes_take_no_token_and_know_no_such_key(
    base_url: str, route: tuple[str, str]
) -> None:
    """A website's visitor has no token: the public form routes never answer 401; a key that is
    no form's is a 404, whatever token comes with it."""
    method, path = route
    body = {"email": "ada@example.com"} if method == "POST" else None
    for headers in ({"Accept": "application/json"}, {"Authorization": "Bearer garbage"}):
        response = call(
            base_url, method, path.replace("{form_key}", "noSuchFormKey000000000000"), headers, json=body
        )
        assert response.status_code == 404, (headers, response.text)


def test_unknown_route_is_a_404_envelope(base_url: str, acme_user: dict[str, str]) -> None:
    response = call(base_url, "GET", "/no-such-route", acme_user)
    assert response.status_code == 404
    body = json_body(response)
    assert set(body) == {"message"} and body["message"]


def test_invalid_lead_is_422_with_errors_per_field(base_url: str, acme_user: dict[str, str]) -> None:
    response = call(base_url, "POST", "/leads", acme_user, json={"email": "not-an-email", "status": "hot"})
    assert response.status_code == 422
    body = json_body(response)
    assert set(body) == {"message", "errors"}
    assert isinstance(body["message"], str) and body["message"]
    assert {"first_name", "last_name", "email", "status"} <= set(body["errors"])
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())


@pytest.mark.parametrize(
    ("method", "path", "kw", "status"),
    [
        ("GET", "/leads/abc", {}, 422),
        ("GET", "/leads/99999999999999999999999", {}, 422),
        ("GET", "/leads", {"params": {"page": "0", "sort_by": "internal", "status": "hot"}}, 422),
        ("PUT", "/leads/1", {"data": "{not json", "headers": {"Content-Type": "application/json"}}, 400),
        (
            "POST",
            "/leads",
            {"data": json.dumps([1, 2]), "headers": {"Content-Type": "application/json"}},
            422,
        ),
        ("PUT", "/leads/1", {"json": {**NEW_LEAD, "assigned_to": 999}}, 422),
    ],
    ids=["non-numeric id", "huge id", "bad query", "malformed JSON", "JSON array", "unknown assignee"],
)
def test_bad_requests_are_client_errors(
    base_url: str, acme_user: dict[str, str], method: str, path: str, kw: dict[str, Any], status: int
) -> None:
    headers = {**acme_user, **kw.pop("headers", {})}
    response = call(base_url, method, path, headers, **kw)
    assert response.status_code == status, response.text
    body = json_body(response)
    assert isinstance(body.get("message"), str) and body["message"]
