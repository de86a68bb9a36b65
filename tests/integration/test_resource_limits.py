"""Oversized and hostile input is a clear 4xx before any DynamoDB request: never a 500, never a
slow full read. Generated from the route table and the OpenAPI document, so new routes and
new query parameters are covered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import lead_body
from tests.integration.route_rows import ROUTES, ROWS, World

WITH_BODY = [route for route in ROUTES if route[0] in ("POST", "PUT")]
ROUTE_IDS = [f"{m} {p}" for m, p in WITH_BODY]


def _send_raw(world: World, method: str, path: str, raw: str) -> Any:
    call = ROWS[(method, path)](world, world.admin)
    headers = {"Content-Type": "application/json"}
    return world.admin.request(method, call.path, data=raw, headers=headers)


@pytest.mark.parametrize(("method", "path"), WITH_BODY, ids=ROUTE_IDS)
def test_a_2_mb_json_body_is_413_before_any_read(tenant, method, path):
    world = World(tenant)
    response = _send_raw(world, method, path, json.dumps(lead_body(notes="x" * (2 * 1024 * 1024))))
    assert response.status_code == 413, response.json
    assert response.json == {"message": "The request body must not be larger than 262144 bytes."}
    assert world.admin.last_cost["requests"] == 0


@pytest.mark.parametrize(("method", "path"), WITH_BODY, ids=ROUTE_IDS)
def test_json_nested_deeper_than_the_parser_goes_is_400(tenant, method, path):
    world = World(tenant)
    depth = 20_000  # far past Python's recursion limit, well under the size limit
    response = _send_raw(world, method, path, '{"a":' * depth + "1" + "}" * depth)
    assert response.status_code == 400, response.json
    assert response.json["message"] in (
        "The request body is nested too deeply.",
        "The request body is not valid JSON.",
    )
    assert world.admin.last_cost["requests"] == 0


def _string_query_parameters(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                types = {schema.get("type")} | {option.get("type") for option in schema.get("anyOf", [])}
                if parameter["in"] == "query" and "string" in types:
                    found.append((method.upper(), path, parameter["name"]))
    return found


def test_a_100_kb_query_value_is_422_before_any_read(tenant):
    world = World(tenant)
    document = world.admin.get("/openapi.json").json
    parameters = _string_query_parameters(document)
    assert ("GET", "/leads", "search") in parameters and len(parameters) >= 5
    for method, path, name in parameters:
        call = ROWS[(method, path)](world, world.admin)
        response = world.admin.request(method, call.path, query={**(call.query or {}), name: "x" * 100_000})
        assert response.status_code == 422, (path, name, response.json)
        assert name in response.json["errors"], (path, name)
        assert world.admin.last_cost["requests"] == 0, (path, name)


@pytest.mark.parametrize(
    ("query", "field"),
    [({"per_page": 100_000}, "per_page"), ({"page": 10**9}, "page"), ({"page": 10**30}, "page")],
)
@pytest.mark.parametrize("path", ["/leads"])
def test_huge_pages_are_422_before_any_read(tenant, path, query, field):
    admin = World(tenant).admin
    response = admin.get(path, query=query)
    assert response.status_code == 422 and field in response.json["errors"], response.json
    assert admin.last_cost["requests"] == 0


def test_the_deepest_page_allowed_reads_nothing_but_the_counters(tenant):
    world = World(tenant)
    for _ in range(3):
        world.lead()
    response = world.admin.get("/leads", query={"page": 10_000, "per_page": 100})
    assert response.status_code == 200 and response.json["data"] == [] and response.json["total"] == 3
    assert world.admin.last_cost["items_read"] <= 1  # the tenant's counters: no index read at all
