"""Failures never leak: unexpected errors are a logged 500, a throttled store is a 503, both in
the API's envelope and without a word of boto3 or a stack trace."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.integration.route_rows import ROWS, WITH_JSON_BODY, World
from tests.support.clients import lead_body

LEAKS = ("Traceback", "botocore", "ClientError", "boto3", "secret-detail", "TENANT#", "PK")


class FailingClient:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str):
        def fail(*args, **kwargs):
            raise self.error

        return fail


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "secret-detail TENANT#x PK"}}, "GetItem")


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (client_error("ProvisionedThroughputExceededException"), 503,
         "The service is busy. Please retry shortly."),
        (client_error("ValidationException"), 500, "Server Error"),
        (EndpointConnectionError(endpoint_url="http://secret-detail"), 503,
         "The data store is unavailable. Please retry shortly."),
        (RuntimeError("secret-detail"), 500, "Server Error"),
    ],
)  # fmt: skip
def test_store_failures_become_clean_envelopes(bob, monkeypatch, error, status, message):
    bob.post("/leads", lead_body())
    monkeypatch.setattr("leads_shared.data.dynamo.dynamodb_client", lambda: FailingClient(error))
    for response in (bob.get("/leads/1"), bob.get("/leads"), bob.post("/leads", lead_body())):
        assert response.status_code == status
        assert response.json == {"message": message}
        assert not any(leak in response.get_data(as_text=True) for leak in LEAKS)


def test_every_lead_route_needs_a_token(tenant):
    anonymous = tenant.anonymous()
    for method, path in [("GET", "/leads"), ("POST", "/leads"), ("GET", "/leads/1"), ("PUT", "/leads/1"),
                         ("DELETE", "/leads/1")]:  # fmt: skip
        response = anonymous.request(method, path, json_body={"first_name": 1})
        assert response.status_code == 401, (method, path)
        assert response.json == {"message": "Unauthenticated."}
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_form_content_type_does_not_lift_the_body_limit_of_other_routes(bob):
    lead = bob.post("/leads", lead_body()).json
    body = (
        b'--x\r\nContent-Disposition: form-data; name="content"\r\n\r\n' + b"a" * 1_000_000 + b"\r\n--x--\r\n"
    )
    response = bob.request(
        "POST",
        f"/leads/{lead['id']}/notes",
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize("sent_at", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_date_at_the_edge_of_the_calendar_is_a_422_not_a_500(bob, sent_at):
    lead = bob.post("/leads", lead_body()).json
    body = {"subject": "s", "body": "b", "direction": "inbound", "sent_at": sent_at}
    response = bob.post(f"/leads/{lead['id']}/linked-emails", body)
    assert response.status_code == 422 and "sent_at" in response.json["errors"]


# (SCIM's routes read SCIM documents whatever their media type: 400 invalidSyntax when they are
# not JSON.)
WITH_BODY = WITH_JSON_BODY
NOT_JSON = {"message": "The request body must be JSON (Content-Type: application/json)."}


@pytest.mark.parametrize(("method", "path"), WITH_BODY, ids=[f"{m} {p}" for m, p in WITH_BODY])
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml; charset=utf-8"])
def test_a_body_that_is_not_json_is_a_415_after_the_token(tenant, method, path, content_type):
    """(A urlencoded form is read like a JSON object, as Powertools does: not refused.)"""
    world = World(tenant)
    call = ROWS[(method, path)](world, world.admin)
    data = json.dumps(call.body if call.body is not None else {"filename": "x.csv"})
    headers = {"Content-Type": content_type}
    response = world.admin.request(method, call.path, data=data, headers=headers)
    assert (response.status_code, response.json) == (415, NOT_JSON)
    assert world.admin.last_cost["requests"] == 0
    headers["Authorization"] = "Bearer x"
    assert world.admin.request(method, call.path, data=data, headers=headers).status_code == 401


def test_a_multipart_body_without_a_boundary_is_a_400_not_a_500(bob):
    lead = bob.post("/leads", lead_body()).json
    headers = {"Content-Type": "multipart/form-data"}
    response = bob.request("POST", f"/leads/{lead['id']}/notes", data=b'{"content": "x"}', headers=headers)
    assert response.status_code == 400
    assert response.json == {"message": "The multipart/form-data body has no boundary."}
    for path in (f"/leads/{lead['id']}/notes", "/leads/import"):  # the token is checked first
        anonymous = bob.request("POST", path, data=b"x", headers={**headers, "Authorization": "Bearer x"})
        assert anonymous.status_code == 401, path
    upload = bob.request("POST", "/leads/import", data=b"x", headers=headers)  # the upload route
    assert upload.status_code == 422 and "file" in upload.json["errors"], upload.json


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; Boundary=abc",
        "multipart/form-data; boundary=",
        'multipart/form-data; boundary=""',
        " multipart/form-data",
        "multipart/form-data; boundary=b",  # with a part whose headers are not UTF-8
    ],
)
def test_an_unreadable_multipart_body_is_a_400_after_the_token_never_a_500(bob, content_type):
    lead = bob.post("/leads", lead_body()).json
    body = b'--b\r\nContent-Disposition: form-data; name="content\xff"\r\n\r\nx\r\n--b--\r\n'
    headers = {"Content-Type": content_type}
    response = bob.request("POST", f"/leads/{lead['id']}/notes", data=body, headers=headers)
    assert response.status_code == 400, response.json
    assert response.json["message"].startswith("The multipart/form-data body")
    anonymous = bob.request(
        "POST", f"/leads/{lead['id']}/notes", data=body, headers={**headers, "Authorization": "Bearer x"}
    )
    assert anonymous.status_code == 401


def test_json_nested_too_deeply_is_a_401_without_a_valid_token(bob):
    lead = bob.post("/leads", lead_body()).json
    deep = '{"a":' * 20_000 + "1" + "}" * 20_000
    headers = {"Content-Type": "application/json", "Authorization": "Bearer x"}
    response = bob.request("POST", f"/leads/{lead['id']}/notes", data=deep, headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "content_type", ["Application/JSON", "APPLICATION/JSON; charset=UTF-8", " application/json"]
)
def test_the_media_type_is_case_insensitive(bob, content_type):
    response = bob.request(
        "POST", "/leads", data=json.dumps(lead_body()), headers={"Content-Type": content_type}
    )
    assert response.status_code == 201, response.json


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", None])
def test_a_body_that_looks_like_json_is_read_as_json_whatever_the_form_content_type(bob, content_type):
    """`curl -d '{...}'` without `-H 'Content-Type: application/json'` sends a urlencoded form."""
    headers = {"Content-Type": content_type} if content_type else {}
    data = "\n  " + json.dumps(lead_body(first_name="Jane"))
    response = bob.request("POST", "/leads", data=data, headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["first_name"] == "Jane"
    lead = response.json
    listed = bob.request("PUT", f"/leads/{lead['id']}", data="[1]", headers=headers)
    assert (listed.status_code, listed.json["message"]) == (422, "The request body must be a JSON object.")
    broken = bob.request("POST", "/leads", data="{first_name=Jane", headers=headers)
    assert (broken.status_code, broken.json) == (400, {"message": "The request body is not valid JSON."})


def test_a_body_that_is_not_utf8_is_a_400_naming_the_encoding_after_the_token(bob):
    latin1 = '{"first_name": "Jérôme", "last_name": "Noël"}'.encode("latin-1")
    headers = {"Content-Type": "application/json"}
    response = bob.request("POST", "/leads", data=latin1, headers=headers)
    assert (response.status_code, response.json) == (
        400,
        {"message": "The request body must be UTF-8 encoded JSON."},
    )
    assert bob.get("/leads").json["total"] == 0  # nothing stored with U+FFFD in it
    invalid = bob.request("POST", "/leads", data=b'{"last_name": "No\xebl"}', headers=headers)
    assert invalid.status_code == 400  # even where the fields would be a 422
    anonymous = bob.request("POST", "/leads", data=latin1, headers={**headers, "Authorization": "Bearer x"})
    assert anonymous.status_code == 401
    escaped = bob.post("/leads", {"first_name": "J\ufffdr\u00f4me", "last_name": "No\u00ebl"})
    assert escaped.status_code == 201  # (json.dumps escapes it: U+FFFD sent as JSON is data)
    utf8 = bob.request("POST", "/leads", data=latin1.decode("latin-1").encode(), headers=headers)
    assert utf8.status_code == 201 and utf8.json["first_name"] == "Jérôme"


def test_a_multipart_boundary_keeps_its_case(bob):
    lead = bob.post("/leads", lead_body()).json
    body = b'--AbC\r\nContent-Disposition: form-data; name="content"\r\n\r\nCalled.\r\n--AbC--\r\n'
    headers = {"Content-Type": "Multipart/Form-Data; boundary=AbC"}
    response = bob.request("POST", f"/leads/{lead['id']}/notes", data=body, headers=headers)
    assert response.status_code == 201 and response.json["content"] == "Called.", response.json
