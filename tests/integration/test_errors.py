"""Failures never leak: unexpected errors are a logged 500, a throttled store is a 503, both in
the API's envelope and without a word of boto3 or a stack trace."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.integration.conftest import lead_body

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
