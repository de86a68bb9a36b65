"""Oversized and hostile input is a clear 4xx before any DynamoDB request: never a 500, never a
slow full read. Generated from the route table and the OpenAPI document, so new routes and
new query parameters are covered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.route_rows import ROWS, SCIM_ROWS, WITH_JSON_BODY, World
from tests.support.clients import lead_body

WITH_BODY = WITH_JSON_BODY  # SCIM's below
ROUTE_IDS = [f"{m} {p}" for m, p in WITH_BODY]
SCIM_WITH_BODY = [route for route in SCIM_ROWS if route[0] in ("POST", "PUT", "PATCH")]
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


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
        if path.startswith("/scim/"):
            continue  # SCIM's parameters: test_a_100_kb_scim_parameter_is_400_after_the_token_lookup
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


def _send_scim(world: World, method: str, path: str, raw: str) -> Any:
    call = SCIM_ROWS[(method, path)](world, world.scim)
    headers = {"Content-Type": "application/scim+json"}
    return world.scim.request(method, call.path, data=raw, headers=headers)


@pytest.mark.parametrize(("method", "path"), SCIM_WITH_BODY, ids=[f"{m} {p}" for m, p in SCIM_WITH_BODY])
def test_scim_bodies_too_large_or_too_deep_are_scim_errors_before_any_read(tenant, method, path):
    world = World(tenant)
    scim = world.scim
    too_large = _send_scim(world, method, path, json.dumps({"displayName": "x" * (2 * 1024 * 1024)}))
    assert too_large.status_code == 413 and too_large.json["schemas"] == [SCIM_ERROR], too_large.json
    assert scim.last_cost["requests"] == 1, "only the token lookup"
    depth = 20_000
    too_deep = _send_scim(world, method, path, '{"a":' * depth + "1" + "}" * depth)
    assert too_deep.status_code == 400 and too_deep.json["schemas"] == [SCIM_ERROR], too_deep.json
    assert too_deep.json["scimType"] == "invalidSyntax"


def test_a_100_kb_scim_parameter_is_400_after_the_token_lookup(tenant):
    world = World(tenant)
    document = world.admin.get("/openapi.json").json
    parameters = [found for found in _string_query_parameters(document) if found[1].startswith("/scim/")]
    assert ("GET", "/scim/v2/Users", "filter") in parameters
    for method, path, name in parameters:
        call = SCIM_ROWS[(method, path)](world, world.scim)
        response = world.scim.request(method, call.path, query={**(call.query or {}), name: "x" * 100_000})
        assert response.status_code == 400, (path, name, response.json)
        assert (response.json["schemas"], response.json["scimType"]) == ([SCIM_ERROR], "invalidValue")
        assert world.scim.last_cost["requests"] == 1, (path, name)
