"""What every function's resolver gets from `use_api_conventions`, shown on a tiny resolver:
the token before anything else, the role check of admin-only routes, and the envelope."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query

from devstack.tokens import mint_token
from leads_shared.api import admin_only, caller, cors, entry_point, use_api_conventions
from leads_shared.identity import remembered
from leads_shared.observability import logger
from tests.support.fake_directory import FakeDirectory

app = APIGatewayRestResolver(enable_validation=True, cors=cors())
use_api_conventions(app)


@pytest.fixture(autouse=True)
def directory(monkeypatch):
    """The caller's directory, in memory."""
    fake = FakeDirectory()
    monkeypatch.setattr("leads_shared.data.get_directory_store", lambda: fake)
    remembered.clear()
    return fake


@app.get("/admin-thing", middlewares=[admin_only])
def admin_thing() -> dict:
    return {"tenant": caller(app).tenant_id}


@app.get("/counted")
def counted(n: Annotated[int, Query(ge=1)]) -> dict:
    return {"n": n}


def call(path: str, token: str | None, query: dict | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    event = {
        "resource": path, "path": path, "httpMethod": "GET", "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "requestContext": {"stage": "test", "path": path, "requestId": "r"}, "body": None,
    }  # fmt: skip
    response = app.resolve(event, None)
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("user", 403)])
def test_admin_only_routes_check_the_role(role, status):
    code, body = call("/admin-thing", mint_token(1, "acme", role=role))
    assert code == status
    if status == 403:
        assert body == {"message": "This action is unauthorized."}
    else:
        assert body == {"tenant": "acme"}


def test_a_bad_token_is_401_even_where_the_role_or_the_query_would_fail():
    assert call("/admin-thing", None) == (401, {"message": "Unauthenticated."})
    assert call("/counted", "garbage", {"n": "zero"}) == (401, {"message": "Unauthenticated."})
    code, body = call("/counted", mint_token(1, "acme"), {"n": "zero"})
    assert code == 422 and body["errors"] == {"n": ["The n field must be an integer."]}


FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def test_every_http_function_ends_with_the_one_entry_point():
    """The decorators and the media-type rule are applied by one visible line, not a patch."""
    http = [p for p in FUNCTIONS.glob("*/app.py") if "APIGatewayRestResolver(" in p.read_text()]
    assert len(http) >= 10
    for path in http:
        assert path.read_text().rstrip().endswith("lambda_handler = entry_point(app)"), path


def test_the_entry_point_logs_the_correlation_id_and_reads_the_media_type():
    handler = entry_point(app)
    event = {
        "resource": "/counted", "path": "/counted", "httpMethod": "GET",
        "headers": {"Content-Type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"},
        "multiValueHeaders": {}, "queryStringParameters": None,
        "requestContext": {"stage": "test", "path": "/counted", "requestId": "req-42"},
        "body": ' {"n": 1}',
    }  # fmt: skip
    seen = []
    original = app.resolve
    app.resolve = lambda e, c: seen.append(e) or original(e, c)  # type: ignore[method-assign]
    try:
        handler(event, LambdaContextStub())
    finally:
        app.resolve = original  # type: ignore[method-assign]
    assert seen[0]["headers"]["Content-Type"] == "application/json; charset=UTF-8"
    assert event["headers"]["Content-Type"].startswith("Application/")  # the caller's event is kept
    assert logger.get_correlation_id() == "req-42"


class LambdaContextStub:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "aws-1"
