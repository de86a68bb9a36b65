from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from werkzeug.test import Client

from devstack.gateway import MAX_BODY_BYTES, LocalGateway
from devstack.runtime import LambdaFunction
from devstack.template import ACCOUNT_ID, Template

WriteProject = Callable[[str, dict[str, str]], Path]  # the conftest fixture

TEMPLATE = """\
    Parameters:
      Stage: {Type: String, Default: test}
    Resources:
      Api:
        Type: AWS::Serverless::Api
        Properties:
          StageName: !Ref Stage
          BinaryMediaTypes: ["application~1octet-stream"]
      EchoFunction:
        Type: AWS::Serverless::Function
        Properties:
          FunctionName: !Sub "echo-${Stage}"
          CodeUri: src/
          Handler: echo/app.handler
          MemorySize: 256
          Events:
            GetItem: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/items/{id}", Method: GET}}
            Upload: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/files/{proxy+}", Method: POST}}
            Boom: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /boom, Method: GET}}
            Binary: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /binary, Method: GET}}
            Malformed: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /malformed, Method: GET}}
"""
HANDLER = """\
    import base64
    import json

    def handler(event, context):
        if event["path"] == "/boom":
            raise RuntimeError("secret detail")
        if event["path"] == "/malformed":
            return {"statusCode": 200, "body": {"not": "a string"}}
        if event["path"] == "/binary":
            return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
                    "body": base64.b64encode(b"\\x00\\x01").decode(), "isBase64Encoded": True}
        context_seen = {"function_name": context.function_name, "memory": context.memory_limit_in_mb,
                        "arn": context.invoked_function_arn,
                        "remaining": context.get_remaining_time_in_millis(),
                        "request_id": context.aws_request_id}
        return {"statusCode": 201, "headers": {"X-Single": "1"},
                "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
                "body": json.dumps({"event": event, "context": context_seen})}
"""


@pytest.fixture
def client(write_project: WriteProject) -> Client:
    template = Template.load(write_project(TEMPLATE, {"src/echo/app.py": HANDLER}))
    functions = {function_id: LambdaFunction(spec) for function_id, spec in template.functions().items()}
    return Client(LocalGateway(template.api_routes(), template.apis(), functions))


def test_proxy_event_has_api_gateway_rest_shape(client: Client) -> None:
    response = client.get("/items/42?tag=a&tag=b&q=x%20y", headers={"X-Trace": "t"})
    assert response.status_code == 201
    seen = response.get_json()
    event, context = seen["event"], seen["context"]
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"tag": "b", "q": "x y"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "q": ["x y"]}
    assert event["headers"]["X-Trace"] == "t"
    assert event["multiValueHeaders"]["X-Trace"] == ["t"]
    assert event["body"] is None and event["isBase64Encoded"] is False
    assert event["stageVariables"] is None
    request_context = event["requestContext"]
    assert request_context["resourcePath"] == "/items/{id}"
    assert request_context["path"] == "/items/42"  # served at the root: no stage in the URL
    assert request_context["stage"] == "test"
    assert request_context["accountId"] == ACCOUNT_ID
    assert request_context["identity"]["sourceIp"]
    assert isinstance(request_context["requestTimeEpoch"], int)
    assert len(request_context["requestId"]) == 36
    assert context["function_name"] == "echo-test"
    assert context["memory"] == 256
    assert context["arn"].endswith(":function:echo-test")
    assert 0 < context["remaining"] <= 3000  # SAM's default Timeout


def test_response_headers_and_multi_value_headers_are_merged(client: Client) -> None:
    response = client.get("/items/1")
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.headers["X-Single"] == "1"
    assert response.headers["Content-Type"] == "application/json"  # API Gateway's default


def test_empty_query_and_greedy_path(client: Client) -> None:
    event = client.post("/files/a/b.csv", data="x,y", content_type="text/csv").get_json()["event"]
    assert event["resource"] == "/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b.csv"}
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["body"] == "x,y" and event["isBase64Encoded"] is False


def test_binary_media_types_are_base64_both_ways(client: Client) -> None:
    event = client.post("/files/raw", data=b"\xff\x00", content_type="application/octet-stream").get_json()[
        "event"
    ]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00"
    assert client.get("/binary", headers={"Accept": "application/octet-stream"}).data == b"\x00\x01"
    assert client.get("/binary", headers={"Accept": "text/plain"}).data == b"AAE="  # not a binary Accept


def test_function_error_is_a_502_without_details(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom")
    assert response.status_code == 502
    assert response.get_json() == {"message": "Internal server error"}
    assert "secret detail" not in response.get_data(as_text=True)
    assert any("secret detail" in (record.exc_text or "") for record in caplog.records)


def test_malformed_proxy_response_is_a_502(client: Client) -> None:
    response = client.get("/malformed")
    assert response.status_code == 502
    assert response.get_json() == {"message": "Internal server error"}


def test_body_over_ten_megabytes_is_413(client: Client) -> None:
    assert client.post("/files/big", data=b"x" * MAX_BODY_BYTES).status_code == 201
    response = client.post("/files/big", data=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert response.get_json() == {"message": "Request Too Long"}  # API Gateway's default body


def test_unknown_path_is_api_gateways_own_answer(client: Client) -> None:
    # This template declares no GatewayResponses and no fallback routes: API Gateway's default.
    response = client.get("/nope")
    assert response.status_code == 403
    assert json.loads(response.data) == {"message": "Missing Authentication Token"}
    assert client.get("/items/1/extra").status_code == 403


def test_known_path_with_another_method_is_405_with_allow(client: Client) -> None:
    # The real template routes these to its ANY fallbacks instead (tests/integration/test_errors.py).
    response = client.patch("/items/7")
    assert response.status_code == 405
    assert response.get_json() == {"message": "Method Not Allowed."}
    assert response.headers["Allow"] == "GET"
    assert client.head("/items/7").status_code == 405  # API Gateway adds no HEAD for GET


def test_handler_modules_with_the_same_file_name_stay_apart(write_project: WriteProject) -> None:
    handler = "def handler(event, context):\n    return {'statusCode': 200, 'body': NAME}\n"
    template_path = write_project(
        """\
        Resources:
          One: {Type: AWS::Serverless::Function, Properties: {CodeUri: one/, Handler: app.handler,
                Events: {E: {Type: Api, Properties: {Path: /one, Method: GET}}}}}
          Two: {Type: AWS::Serverless::Function, Properties: {CodeUri: two/, Handler: app.handler,
                Events: {E: {Type: Api, Properties: {Path: /two, Method: GET}}}}}
        """,
        {f"{name}/app.py": handler.replace("NAME", repr(name)) for name in ("one", "two")},
    )
    template = Template.load(template_path)
    functions = {function_id: LambdaFunction(spec) for function_id, spec in template.functions().items()}
    client = Client(LocalGateway(template.api_routes(), template.apis(), functions))
    assert (client.get("/one").data, client.get("/two").data) == (b"one", b"two")
    assert template.apis()["ServerlessRestApi"].stage == "Prod"  # SAM's implicit API


def test_requests_to_one_function_are_serialised(write_project: WriteProject) -> None:
    template_path = write_project(
        """\
        Resources:
          Slow: {Type: AWS::Serverless::Function, Properties: {CodeUri: slow/, Handler: app.handler,
                 Events: {E: {Type: Api, Properties: {Path: /slow, Method: GET}}}}}
        """,
        {
            "slow/app.py": """\
            import threading, time
            active = 0
            peak = 0
            guard = threading.Lock()

            def handler(event, context):
                global active, peak
                with guard:
                    active += 1
                    peak = max(peak, active)
                time.sleep(0.05)
                with guard:
                    active -= 1
                return {"statusCode": 200, "body": str(peak)}
            """
        },
    )
    template = Template.load(template_path)
    function = LambdaFunction(template.function("Slow"))
    gateway = Client(LocalGateway(template.api_routes(), template.apis(), {"Slow": function}))
    with ThreadPoolExecutor(4) as pool:
        peaks = list(pool.map(lambda _: gateway.get("/slow").data, range(8)))
    assert peaks and all(peak == b"1" for peak in peaks)
