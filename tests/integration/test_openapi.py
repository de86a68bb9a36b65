"""The API describes itself: `/openapi.json` documents every route of template.yaml (with its
success body, the auth and validation error envelopes), `/docs` serves Swagger UI, and the meta
routes need no token."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from werkzeug.test import Client

from devstack.runtime import LambdaFunction
from devstack.template import Template
from tests.integration.route_rows import PUBLIC_FORM
from tests.support.clients import Caller, lead_body

META_ROUTES = {"/health", "/openapi.json", "/docs"}  # public, not part of the documented API
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def openapi_path(template_path: str) -> str:
    """API Gateway path -> OpenAPI path: `{id}` stays, a greedy `{proxy+}` becomes `{proxy}`."""
    return re.sub(r"\{(\w+)\+\}", r"{\1}", template_path)


def template_operations() -> set[tuple[str, str]]:
    return {
        (openapi_path(route.path), route.method.lower())
        for route in Template.load().api_routes()
        if route.path not in META_ROUTES and route.method != "ANY"  # ANY: the 404/405 fallbacks
    }


TEMPLATE_OPERATIONS = sorted(template_operations())


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in document.get("paths", {}).items()
        for method in item
        if method in HTTP_METHODS
    }


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        target: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def response_schema(document: dict[str, Any], operation: dict[str, Any], status: str) -> dict[str, Any]:
    response = operation["responses"][status]
    content = response.get("content") or {}
    assert "application/json" in content, f"{status}: no application/json body documented"
    schema = content["application/json"].get("schema")
    assert schema, f"{status}: no schema for its body"
    return dict(schema)


def validate_body(document: dict[str, Any], schema: dict[str, Any], body: Any) -> None:
    """Validate body against a schema of the document (its $refs resolve inside the document)."""
    jsonschema.Draft202012Validator({**schema, "components": document.get("components", {})}).validate(body)


@pytest.fixture(scope="module")
def document(gateway: Client) -> dict[str, Any]:
    response = gateway.get("/openapi.json")  # no Authorization header
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def test_openapi_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    assert str(document.get("openapi", "")).startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    assert isinstance(document.get("paths"), dict)
    try:
        from openapi_spec_validator import validate
    except ImportError:  # structure checked above and per operation below
        return
    validate(document)


def test_openapi_document_has_every_route_of_the_template(document: dict[str, Any]) -> None:
    assert TEMPLATE_OPERATIONS, "template.yaml declares no API routes besides the meta routes"
    missing = set(TEMPLATE_OPERATIONS) - documented_operations(document)
    assert not missing, f"routes of template.yaml missing from /openapi.json: {sorted(missing)}"


def test_openapi_document_has_no_route_the_template_does_not_serve(document: dict[str, Any]) -> None:
    extra = documented_operations(document) - set(TEMPLATE_OPERATIONS)
    assert not extra, f"/openapi.json documents routes API Gateway would not route: {sorted(extra)}"


@pytest.mark.parametrize(("path", "method"), TEMPLATE_OPERATIONS, ids=lambda v: str(v))
def test_operation_documents_success_and_error_envelopes(
    document: dict[str, Any], path: str, method: str
) -> None:
    operation = document["paths"].get(path, {}).get(method)
    assert operation is not None, f"{method.upper()} {path} is not documented"
    responses = operation.get("responses") or {}
    if path.startswith("/scim/"):
        check_scim_operation(document, operation, f"{method.upper()} {path}")
        return

    public = (method.upper(), path) in PUBLIC_FORM
    successes = [status for status in responses if re.fullmatch(r"2\d\d", str(status))]
    assert successes, f"{method.upper()} {path}: no 2xx response documented"
    for status in successes:
        content = operation["responses"][status].get("content") or {}
        if "text/csv" in content:  # the CSV template: a file, documented as such
            assert content["text/csv"]["schema"] == {"type": "string"}
            continue
        if public and "application/json" not in content:  # a form's page, script or preflight
            assert all(media["schema"] == {"type": "string"} for media in content.values()), status
            continue
        assert resolve(document, response_schema(document, operation, status))

    assert ({"422"} if public else {"401", "422"}) <= set(responses), f"{method.upper()} {path}"
    if not public:  # (a form's public side takes no token)
        unauthenticated = resolve(document, response_schema(document, operation, "401"))
        assert "message" in unauthenticated.get("required", [])
    invalid = resolve(document, response_schema(document, operation, "422"))
    assert {"message", "errors"} <= set(invalid.get("required", []))


SCIM_MEDIA_TYPE = "application/scim+json"


def scim_schema(document: dict[str, Any], operation: dict[str, Any], status: str) -> dict[str, Any]:
    content = operation["responses"][status].get("content") or {}
    assert SCIM_MEDIA_TYPE in content, f"{status}: no {SCIM_MEDIA_TYPE} body documented"
    return resolve(document, dict(content[SCIM_MEDIA_TYPE]["schema"]))


def check_scim_operation(document: dict[str, Any], operation: dict[str, Any], name: str) -> None:
    """A SCIM route: tagged SCIM, its answers in SCIM's media type, its errors in SCIM's body."""
    assert operation.get("tags") == ["SCIM"], name
    responses = operation["responses"]
    successes = [status for status in responses if re.fullmatch(r"2\d\d", str(status))]
    assert successes, f"{name}: no 2xx response documented"
    for status in successes:
        if status != "204":
            assert scim_schema(document, operation, status).get("properties"), (name, status)
    assert {"400", "401", "500"} <= set(responses), f"{name}: {sorted(responses)}"
    for status in ("400", "401"):
        error = scim_schema(document, operation, status)
        assert {"schemas", "status"} <= set(error["required"]), (name, status)
        assert {"scimType", "detail"} <= set(error["properties"]), (name, status)
    # Powertools documents a 422 on every route it validates: for SCIM, it says it is not sent
    assert responses.get("422", {}).get("description", "Not sent").startswith("Not sent"), name


def test_scim_bodies_match_their_documentation(document: dict[str, Any], tenant) -> None:
    """What the SCIM routes really send validates against what the document says of them."""
    from tests.integration.route_rows import World

    scim = World(tenant).scim
    listed = scim.get("/scim/v2/Users", headers={"Accept": SCIM_MEDIA_TYPE})
    assert listed.status_code == 200
    operation = document["paths"]["/scim/v2/Users"]["get"]
    validate_body(document, scim_schema(document, operation, "200"), listed.get_json(force=True))

    refused = scim.request("GET", "/scim/v2/Users", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    validate_body(document, scim_schema(document, operation, "401"), refused.get_json(force=True))


@pytest.mark.parametrize(("path", "method"), TEMPLATE_OPERATIONS, ids=lambda v: str(v))
def test_operation_requires_a_bearer_token(document: dict[str, Any], path: str, method: str) -> None:
    operation = document["paths"][path][method]
    requirements = operation.get("security", document.get("security")) or []
    if (method.upper(), path) in PUBLIC_FORM:  # a form's public side: documented as needing none
        assert requirements == [{}], f"{method.upper()} {path} must say it needs no token"
        return
    schemes = document.get("components", {}).get("securitySchemes", {})
    bearer = {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"
    }
    assert any(set(requirement) & bearer for requirement in requirements), (
        f"{method.upper()} {path} does not declare the bearer token it needs"
    )


def test_documented_bodies_match_real_answers(document: dict[str, Any], bob: Caller) -> None:
    """A client generated from the document can read what the API really sends."""
    leads, lead = document["paths"]["/leads"]["get"], document["paths"]["/leads"]["post"]

    created = bob.post("/leads", lead_body())
    assert created.status_code == 201
    validate_body(document, response_schema(document, lead, "201"), created.get_json())

    listed = bob.get("/leads")
    assert listed.status_code == 200
    validate_body(document, response_schema(document, leads, "200"), listed.get_json())

    invalid = bob.post("/leads", {"last_name": "Doe"})
    assert invalid.status_code == 422
    validate_body(document, response_schema(document, lead, "422"), invalid.get_json())

    anonymous = bob.request("GET", "/leads", headers={"Authorization": "Bearer not-a-token"})
    assert anonymous.status_code == 401
    validate_body(document, response_schema(document, leads, "401"), anonymous.get_json())


@pytest.mark.parametrize(
    ("path", "method", "status"), [("/leads/export", "get", "303"), ("/leads/import", "post", "202")]
)
def test_every_success_a_route_answers_is_documented(
    document: dict[str, Any], path: str, method: str, status: str
) -> None:
    """`?redirect=true` answers 303; a multipart import answers 202: both with a body."""
    assert resolve(document, response_schema(document, document["paths"][path][method], status))


def parameter_schema(document: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    operation = document["paths"][path][method]
    return next(p["schema"] for p in operation["parameters"] if p["name"].lower() == name.lower())


@pytest.mark.parametrize(
    ("path", "method", "name", "valid", "invalid"),
    [
        ("/leads", "get", "page", [1, 10_000], [0, -55, 10_001, "x"]),
        ("/leads", "get", "per_page", [1, 100], [0, -55, 101, 100_000, "x"]),
        ("/leads", "get", "date_from", ["2026-01-15"], ["15/01/2026"]),
        ("/leads", "get", "status", ["new"], ["open"]),
        ("/leads/export", "get", "date_to", ["2026-01-15"], ["x"]),
        ("/leads/{id}/qualify", "post", "Idempotency-Key", ["3f7c-retry-1"], ["a b", "x" * 256]),
    ],
)  # fmt: skip
def test_documented_parameters_accept_a_blank_value_and_keep_their_limits(
    document: dict[str, Any], path: str, method: str, name: str, valid: list[Any], invalid: list[Any]
) -> None:
    """A blank value means "no value" (the default): the document says so, next to the limits."""
    validator = jsonschema.Draft202012Validator(
        parameter_schema(document, path, method, name), format_checker=jsonschema.FormatChecker()
    )
    for value in [*valid, "", "  "]:
        assert validator.is_valid(value), (name, value)
    for value in invalid:
        assert not validator.is_valid(value), (name, value)


def test_docs_serves_swagger_ui_without_a_token(gateway: Client) -> None:
    response = gateway.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<html" in page.lower()
    assert "swagger" in page.lower()


def test_the_link_swagger_ui_shows_answers_the_document(gateway: Client, document: dict[str, Any]) -> None:
    assert "?format=json" in gateway.get("/docs").get_data(as_text=True)
    response = gateway.get("/docs?format=json")
    assert response.status_code == 200 and response.content_type == "application/json"
    assert response.json["paths"] == document["paths"]


def test_each_error_answer_has_its_own_example_in_the_envelope(document: dict[str, Any]) -> None:
    examples: dict[str, set[str]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path.startswith("/scim/") or method not in HTTP_METHODS:
                continue
            for status, answer in operation["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                media = answer["content"]["application/json"]
                assert "example" in media, (method, path, status)
                schema = {**resolve(document, media["schema"]), "components": document["components"]}
                assert jsonschema.Draft202012Validator(schema).is_valid(media["example"]), (path, status)
                examples.setdefault(status, set()).add(media["example"]["message"])
    assert all(len(messages) == 1 for messages in examples.values()), examples
    assert len({m for messages in examples.values() for m in messages}) == len(examples)
    assert examples["401"] == {"Unauthenticated."}
    assert examples["422"] == {"The first name field is required."}


def test_request_bodies_have_realistic_examples_the_api_accepts(document: dict[str, Any], bob) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            media = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
            if media is None or path == "/tenant/inbound-address":  # (no fields: nothing to show)
                continue
            assert "example" in media, (method, path)
            schema = {**media["schema"], "components": document["components"]}
            assert jsonschema.Draft202012Validator(schema).is_valid(media["example"]), (method, path)
    example = document["paths"]["/leads"]["post"]["requestBody"]["content"]["application/json"]["example"]
    assert example["first_name"] == "Jane"
    created = bob.post("/leads", example)
    assert created.status_code == 201, created.json
    lead_path = f"/leads/{created.json['id']}"
    for path, method in [("/leads/{id}", "put"), ("/leads/{id}/notes", "post"), ("/leads/{id}/tasks", "post"),
                         ("/leads/{id}/linked-emails", "post"), ("/leads/{id}/qualify", "post")]:  # fmt: skip
        body = document["paths"][path][method]["requestBody"]["content"]["application/json"]["example"]
        answer = bob.request(method.upper(), path.replace("/leads/{id}", lead_path), json_body=body)
        assert answer.status_code in (200, 201), (path, answer.json)


def test_health_answers_without_a_token(gateway: Client) -> None:
    response = gateway.get("/health")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert isinstance(response.get_json(), dict)


@pytest.mark.parametrize(("full_path", "server"), [("/dev/openapi.json", "/dev"), ("/openapi.json", "/")])
def test_document_points_try_it_out_at_the_callers_stage(emulator, full_path, server):
    """On the execute-api host the API lives under `/<stage>`; on a custom domain (and locally)
    at the root. Swagger UI's "Try it out" must call the same place the document came from."""
    event = json.loads((Path(__file__).resolve().parents[2] / "events/meta/openapi.json").read_text())
    event["requestContext"]["path"] = full_path
    meta = LambdaFunction(Template.load().function("MetaFunction"))
    meta.load()
    document = json.loads(meta.invoke(event)["body"])
    assert document["servers"] == [{"url": server}]


@pytest.mark.parametrize(("count", "status"), [(50, 201), (51, 422)])
def test_the_documented_recipient_limit_is_the_one_answered(document, bob, count, status):
    """`to` takes up to 50 addresses: the document says so, and the route answers so."""
    operation = document["paths"]["/leads/{id}/linked-emails"]["post"]
    schema = resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    body = {
        "subject": "s", "body": "b", "direction": "outbound", "sent_at": "2026-01-01T00:00:00Z",
        "to": [f"person{n}@client-co.com" for n in range(count)],
    }  # fmt: skip
    documented = jsonschema.Draft202012Validator({**schema, "components": document["components"]})
    assert documented.is_valid(body) == (status == 201)
    lead = bob.post("/leads", {"first_name": "A", "last_name": "B"}).json
    assert bob.post(f"/leads/{lead['id']}/linked-emails", body).status_code == status


def test_the_export_documents_the_lists_filters_as_the_list_does(document: dict[str, Any]) -> None:
    """`GET /leads/export` takes the filters, scope and sort of `GET /leads`: the same parameters."""

    def parameters(path: str) -> dict[str, Any]:
        return {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}

    listed, exported = parameters("/leads"), parameters("/leads/export")
    shared = set(listed) - {"page", "per_page", "cursor"}
    assert len(shared) == 9 and shared <= set(exported)
    for name in shared:
        assert exported[name] == listed[name], name


def test_the_export_job_documents_the_exports_filters(document: dict[str, Any]) -> None:
    """`POST /leads/exports` takes the query parameters of `GET /leads/export` (but `redirect`)."""
    exported = {p["name"]: p for p in document["paths"]["/leads/export"]["get"]["parameters"]}
    queued = {p["name"]: p for p in document["paths"]["/leads/exports"]["post"]["parameters"]}
    assert set(queued) == set(exported) - {"redirect"}
    for name in queued:
        assert queued[name] == exported[name], name


def test_the_export_jobs_answers_are_what_the_document_says(document: dict[str, Any], alice: Caller) -> None:
    started = alice.post("/leads/exports", query={"status": "new", "date_from": "2026-01-15"})
    assert started.status_code == 202
    operation = document["paths"]["/leads/exports"]["post"]
    validate_body(document, response_schema(document, operation, "202"), started.get_json())
    assert started.get_json()["filters"]["date_from"] == "2026-01-15"

    status = alice.get(f"/leads/exports/{started.get_json()['export_id']}")
    operation = document["paths"]["/leads/exports/{export_id}"]["get"]
    validate_body(document, response_schema(document, operation, "200"), status.get_json())
    missing = alice.get("/leads/exports/" + "0" * 32)
    assert missing.status_code == 404
    validate_body(document, response_schema(document, operation, "404"), missing.get_json())
    refused = document["paths"]["/leads/export"]["get"]["responses"]["409"]
    assert refused["content"]["application/json"]
