"""A web app on another origin can call the API: preflight answered by API Gateway (SAM `Cors`),
and every answer — success or error — carries the CORS headers, so the browser lets the app read
it (ETag included, for If-Match)."""

from __future__ import annotations

import pytest

from tests.support.clients import lead_body

ORIGIN = {"Origin": "https://crm.example.com"}


def test_preflight_allows_the_methods_and_headers_the_api_uses(tenant):
    response = tenant.anonymous().request(
        "OPTIONS",
        "/leads/1",
        headers={**ORIGIN, "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "authorization,content-type,if-match"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST", "PUT", "DELETE"} <= methods
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "if-match"} <= allowed


@pytest.mark.parametrize(
    ("method", "path", "authenticated", "body", "status"),
    [
        ("POST", "/leads", True, lead_body(), 201),
        ("GET", "/leads", True, None, 200),
        ("GET", "/leads", False, None, 401),
        ("POST", "/leads", True, {"first_name": ""}, 422),
        ("GET", "/leads/999", True, None, 404),
        ("PATCH", "/leads/1", True, None, 405),
        ("GET", "/nowhere", True, None, 404),
    ],
)
def test_every_answer_carries_the_cors_headers(tenant, method, path, authenticated, body, status):
    caller = tenant.as_user(2) if authenticated else tenant.anonymous()
    response = caller.request(method, path, json_body=body, headers=ORIGIN)
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    if status == 201:
        assert "ETag" in response.headers["Access-Control-Expose-Headers"]
