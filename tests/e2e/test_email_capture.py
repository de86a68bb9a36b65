"""The local capture path as `make dev` runs it: an `.eml` put into the inbound prefix of the
stack's bucket (the command `make dev` prints) is delivered by the bucket's event through the
queue to the ingest function, and shows up under the lead's linked emails."""

from __future__ import annotations

import re
import time
import uuid
from email.message import EmailMessage

import boto3
import pytest
import requests

from tests.e2e.conftest import LocalStackProcess, bearer, token_for

pytestmark = pytest.mark.e2e

DROP = re.compile(
    r"Email drop-box: leads\+<tenant>@(\S+) .*?\n\s+curl -X PUT --data-binary @message\.eml (http://\S+?)/([^/\s]+)/inbound/",
    re.S,
)
WAIT_S = 30


def test_an_eml_dropped_into_the_bucket_is_linked_to_its_lead(local_stack: LocalStackProcess) -> None:
    found = DROP.search(local_stack.log())
    assert found, f"make dev did not print the drop-box and its command:\n{local_stack.log()}"
    domain, emulator_url, bucket = found.groups()
    tenant = f"e2e-mail-{uuid.uuid4().hex[:8]}"  # a tenant of its own: the demo data stays as it is
    headers = bearer(token_for(1, tenant, role="admin"))
    created = requests.post(
        f"{local_stack.base_url}/leads",
        headers=headers,
        json={"first_name": "Mia", "last_name": "Wong", "email": "mia.wong@client-co.com"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    lead_id = created.json()["id"]

    message = EmailMessage()
    message["From"] = "Mia Wong <Mia.Wong@client-co.com>"
    message["To"] = f"sales@acme-co.com, leads+{tenant}@{domain}"
    message["Subject"] = "Dropped locally"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@client-co.com>"
    message.set_content("Sent to the drop-box of the local stack.")
    s3 = boto3.client(
        "s3",
        endpoint_url=emulator_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.put_object(Bucket=bucket, Key=f"inbound/{uuid.uuid4().hex}.eml", Body=message.as_bytes())

    deadline, emails = time.monotonic() + WAIT_S, []
    while not emails and time.monotonic() < deadline:
        time.sleep(0.5)
        listed = requests.get(
            f"{local_stack.base_url}/leads/{lead_id}/linked-emails", headers=headers, timeout=30
        )
        assert listed.status_code == 200, listed.text
        emails = listed.json()["data"]
    assert [(e["subject"], e["direction"], e["from"]) for e in emails] == [
        ("Dropped locally", "inbound", "mia.wong@client-co.com")
    ], f"not linked within {WAIT_S} s"
