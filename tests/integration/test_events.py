"""The sample events in `events/` stay valid: each one, run through the handler of the function its
route belongs to (against the emulator, with the demo data), gets a successful answer; the
events of the fallback routes (`ANY`: a method or path the API does not have) get 405 / 404.
SQS events go to the function their queue feeds, and none of their messages may fail; DynamoDB
stream events go to the function the table's stream feeds, which must not raise."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.emulator import Emulator
from devstack.runtime import LambdaFunction
from devstack.template import REPO_ROOT, ApiRoute, Template
from leads_shared.data.dynamo import meter
from leads_shared.observability import logger

EVENTS_DIR = REPO_ROOT / "events"
EVENT_FILES = sorted(EVENTS_DIR.rglob("*.json"))


def event_source(path: Path) -> str | None:
    """`aws:sqs`, `aws:dynamodb` (a stream): the source of a Records event; None for API events."""
    records = json.loads(path.read_text(encoding="utf-8")).get("Records")
    return str(records[0]["eventSource"]) if records else None


SQS_EVENT_FILES = [path for path in EVENT_FILES if event_source(path) == "aws:sqs"]
STREAM_EVENT_FILES = [path for path in EVENT_FILES if event_source(path) == "aws:dynamodb"]
API_EVENT_FILES = [path for path in EVENT_FILES if event_source(path) is None]
HTML_ROUTES = {("/docs", "GET"), ("/f/{form_key}", "GET")}  # Swagger UI, a lead form's page
SCRIPT_ROUTES = {("/f/{form_key}/embed.js", "GET")}
NO_BODY_ROUTES = {("/f/{form_key}", "OPTIONS")}  # a CORS preflight: 204
CSV_ROUTES = {("/leads/template", "GET")}  # every other route answers JSON


def load_event(path: Path) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


def route_of(event: dict[str, Any], routes: list[ApiRoute]) -> ApiRoute:
    """The route API Gateway picks: the resource's own method, else its ANY method."""
    same_path = [route for route in routes if route.path == event["resource"]]
    for method in (event["httpMethod"], "ANY"):
        matches = [route for route in same_path if route.method == method]
        if matches:
            assert len(matches) == 1, f"{method} {event['resource']} is declared {len(matches)} times"
            return matches[0]
    raise AssertionError(f"{event['httpMethod']} {event['resource']} matches no route of template.yaml")


def header(response: dict[str, Any], name: str) -> str | None:
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower() and values:
            return str(values[0])
    return None


@pytest.fixture(scope="module")
def functions(emulator: Emulator) -> dict[str, LambdaFunction]:
    return {fid: LambdaFunction(spec) for fid, spec in emulator.template.functions().items()}


def test_there_are_sample_events() -> None:
    assert EVENT_FILES, f"no sample events under {EVENTS_DIR}"


def test_every_route_has_a_sample_event() -> None:
    routes = {(route.path, route.method) for route in Template.load().api_routes() if route.method != "ANY"}
    covered = {(event["resource"], event["httpMethod"]) for event in map(load_event, API_EVENT_FILES)}
    missing = sorted(routes - covered)
    assert not missing, f"routes of template.yaml without a sample event under events/: {missing}"


def test_every_queue_fed_function_has_a_sample_event(emulator: Emulator) -> None:
    sources = {emulator.resources[source.queue_id].arn for source in emulator.template.sqs_sources()}
    covered = {record["eventSourceARN"] for path in SQS_EVENT_FILES for record in load_event(path)["Records"]}
    assert sources <= covered, (
        f"SQS sources without a sample event under events/: {sorted(sources - covered)}"
    )


def stream_table(record: dict[str, Any]) -> str:
    """The table whose stream a record comes from (arn:...:table/<name>/stream/<label>)."""
    return str(record["eventSourceARN"].split(":table/", 1)[1].split("/", 1)[0])


def test_every_stream_fed_function_has_a_sample_event(emulator: Emulator) -> None:
    sources = {
        source.function_id: emulator.resources[source.table_id].name
        for source in emulator.template.stream_sources()
    }
    covered = {stream_table(record) for path in STREAM_EVENT_FILES for record in load_event(path)["Records"]}
    missing = sorted(function_id for function_id, table in sources.items() if table not in covered)
    assert not missing, f"stream-fed functions without a sample event under events/: {missing}"


@pytest.fixture
def info_logs() -> Iterator[None]:
    """The log level the workers run at on Lambda (INFO; the suite runs at WARNING): a log line
    whose `extra` names a field of Python's LogRecord (`created`, ...) raises there, failing a
    message after its work was done (and sending it to the dead-letter queue)."""
    previous = logger.log_level
    logger.setLevel("INFO")
    try:
        yield
    finally:
        logger.setLevel(previous)


@pytest.mark.parametrize("path", SQS_EVENT_FILES, ids=lambda p: str(p.relative_to(EVENTS_DIR)))
def test_sample_sqs_event_is_processed_without_failures(
    path: Path, emulator: Emulator, demo_data: None, functions: dict[str, LambdaFunction], info_logs: None
) -> None:
    event = load_event(path)
    queue_arns = {
        source.function_id: emulator.resources[source.queue_id].arn
        for source in emulator.template.sqs_sources()
    }
    (function_id,) = [fid for fid, arn in queue_arns.items() if arn == event["Records"][0]["eventSourceARN"]]

    response = functions[function_id].invoke(event)

    assert response == {"batchItemFailures": []}


@pytest.mark.parametrize("path", STREAM_EVENT_FILES, ids=lambda p: str(p.relative_to(EVENTS_DIR)))
def test_sample_stream_event_is_processed(
    path: Path, emulator: Emulator, demo_data: None, functions: dict[str, LambdaFunction], info_logs: None
) -> None:
    """The handler takes it without raising (a raise fails the batch: the stream delivers it again).
    The directory sync writes a user's *current* name, so against the demo data (where the
    sample's user has the name it had) it reads the user and their leads, and writes nothing; the
    expired trashed lead's partition is empty there: it is read, nothing is removed."""
    event = load_event(path)
    (function_id,) = [
        source.function_id
        for source in emulator.template.stream_sources()
        if emulator.resources[source.table_id].name == stream_table(event["Records"][0])
    ]
    meter.reset()

    assert functions[function_id].invoke(event) is None
    expected = {
        "user_renamed.json": {"GetItem": 1, "Query": 1},  # the user and their leads read
        "trash_expired.json": {"Query": 1},  # the expired lead's partition read
    }
    if function_id == "DirectorySyncFunction":  # nothing written
        assert meter.snapshot()["by_operation"] == expected[path.name]


@pytest.mark.parametrize("path", API_EVENT_FILES, ids=lambda p: str(p.relative_to(EVENTS_DIR)))
def test_sample_event_gets_its_answer(
    path: Path, emulator: Emulator, demo_data: None, functions: dict[str, LambdaFunction]
) -> None:
    event = load_event(path)
    route = route_of(event, emulator.template.api_routes())

    response = functions[route.function_id].invoke(event)

    status, body = int(response["statusCode"]), response.get("body") or ""
    if route.method == "ANY":
        assert status == (404 if "proxy+" in route.path else 405), f"{path.name}: {status} {body}"
        assert set(json.loads(body)) == {"message"}
        return
    assert 200 <= status < 300, f"{path.name}: {status} {body}"
    content_type = header(response, "Content-Type") or ""
    if (route.path, route.method) in HTML_ROUTES:
        assert content_type.startswith("text/html"), content_type
        assert "<html" in body.lower()
    elif (route.path, route.method) in SCRIPT_ROUTES:
        assert content_type.startswith("application/javascript"), content_type
    elif (route.path, route.method) in NO_BODY_ROUTES:
        assert status == 204 and not body
    elif (route.path, route.method) in CSV_ROUTES:
        assert content_type.startswith("text/csv"), content_type
        assert body.lstrip("\ufeff").startswith("first_name,last_name,")
    elif route.path.startswith("/scim/"):  # SCIM's own media type; a DELETE answers 204
        assert content_type.startswith("application/scim+json"), content_type
        assert status == 204 or isinstance(json.loads(body), dict)
    else:
        assert content_type.startswith("application/json"), content_type
        assert isinstance(json.loads(body), dict | list)
