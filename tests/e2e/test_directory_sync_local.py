"""Renaming a user on the local stack as `make dev` runs it: the user item written to the stack's
table (as the admin API or SCIM writes it) reaches the directory sync through the table's stream
and the local stream poller, and the user's lead shows the new name within seconds. The test
works in a tenant of its own, so the demo data stays as the README shows it."""

from __future__ import annotations

import re
import time
import uuid

import boto3
import pytest
import requests

from devstack.stack import LOCAL_PARAMETERS
from devstack.template import REGION, Template
from leads_shared.data.directory_store import DirectoryStore
from leads_shared.models.directory import User
from tests.e2e.conftest import LocalStackProcess, bearer, token_for

pytestmark = pytest.mark.e2e

EMULATOR = re.compile(r"AWS emulator \(moto\) on (http://\S+)")
WITHIN_S = 5


def directory_of(stack: LocalStackProcess) -> DirectoryStore:
    """The stack's users, through the emulator `make dev` printed."""
    found = EMULATOR.search(stack.log())
    assert found, f"make dev did not print the emulator's address:\n{stack.log()}"
    client = boto3.client(
        "dynamodb",
        endpoint_url=found.group(1),
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    table = Template.load(parameter_overrides=LOCAL_PARAMETERS).resource("LeadsTable").name
    return DirectoryStore(table, client)


def test_a_renamed_user_shows_on_their_lead_within_seconds(local_stack: LocalStackProcess) -> None:
    directory = directory_of(local_stack)
    tenant = f"e2e-sync-{uuid.uuid4().hex[:8]}"
    for user_id, name, role in [(1, "Ann Admin", "admin"), (2, "Bob Baker", "user")]:
        directory.put_user(
            User(tenant_id=tenant, id=user_id, name=name, email=f"u{user_id}@x.com", role=role)
        )
    headers = bearer(token_for(1, tenant, role="admin"))
    created = requests.post(
        f"{local_stack.base_url}/leads",
        headers=headers,
        json={"first_name": "Lee", "last_name": "Ford", "assigned_to": 2},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    assert (created.json()["assigned_to_name"], created.headers["ETag"]) == ("Bob Baker", '"1"')
    lead_url = f"{local_stack.base_url}/leads/{created.json()['id']}"

    bob = directory.user(tenant, 2)
    assert bob is not None
    directory.put_user(bob.model_copy(update={"name": "Robert Baker"}))
    renamed_at, lead = time.monotonic(), created
    while time.monotonic() - renamed_at < WITHIN_S:
        lead = requests.get(lead_url, headers=headers, timeout=30)
        assert lead.status_code == 200, lead.text
        if lead.json()["assigned_to_name"] == "Robert Baker":
            break
        time.sleep(0.2)

    assert lead.json()["assigned_to_name"] == "Robert Baker", f"not renamed within {WITHIN_S} s"
    assert lead.headers["ETag"] == '"2"'
