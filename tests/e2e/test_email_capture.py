"""The local capture path as `make dev` runs it: an `.eml` put into the inbound prefix of the
stack's bucket (with boto3, or with the curl command `make dev` prints), sent to the tenant's
drop-box address (`GET /tenant`), is delivered by the bucket's event through the queue to the
ingest function, and shows up under the lead's linked emails. Each test works in a tenant of its
own, so the demo data stays as the README shows it."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.e2e.conftest import LocalStackProcess, bearer, token_for

pytestmark = pytest.mark.e2e

DROP = re.compile(
    r"Email drop-box: leads\+<tenant>\.<token>@(\S+) .*?\n\s+(curl -X PUT .*?/inbound/message\.eml)\n", re.S
)
DEMO_ADDRESS = re.compile(r"^  (acme|globex): (leads\+\S+@\S+)$", re.M)
COMMAND = re.compile(r"(http://[^/\s]+)/([^/\s]+)/inbound/")
WAIT_S = 30


def printed_drop_box(stack: LocalStackProcess) -> tuple[str, str, str, str]:
    """The domain, curl command, emulator URL and bucket that `make dev` printed."""
    found = DROP.search(stack.log())
    assert found, f"make dev did not print the drop-box and its command:\n{stack.log()}"
    domain, command = found.groups()
    where = COMMAND.search(command)
    assert where, command
    return domain, command, where.group(1), where.group(2)


def new_lead(stack: LocalStackProcess, email: str) -> tuple[str, dict[str, str], int]:
    """A lead with ``email`` in a new tenant: (tenant id, its admin's headers, lead id)."""
    tenant = f"e2e-mail-{uuid.uuid4().hex[:8]}"
    headers = bearer(token_for(1, tenant, role="admin"))
    created = requests.post(
        f"{stack.base_url}/leads",
        headers=headers,
        json={"first_name": "Mia", "last_name": "Wong", "email": email},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return tenant, headers, created.json()["id"]


def dropbox_of(stack: LocalStackProcess, admin: dict[str, str]) -> str:
    """The admin's tenant's drop-box address, as `GET /tenant` answers it."""
    answer = requests.get(f"{stack.base_url}/tenant", headers=admin, timeout=30)
    assert answer.status_code == 200, answer.text
    address: str = answer.json()["inbound_address"]
    return address


def eml(sender: str, to: str, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@client-co.com>"
    message.set_content("Sent to the drop-box of the local stack.")
    return message.as_bytes()


def wait_for_links(stack: LocalStackProcess, headers: dict[str, str], lead_id: int) -> list[dict[str, Any]]:
    deadline, emails = time.monotonic() + WAIT_S, []
    while not emails and time.monotonic() < deadline:
        time.sleep(0.5)
        listed = requests.get(f"{stack.base_url}/leads/{lead_id}/linked-emails", headers=headers, timeout=30)
        assert listed.status_code == 200, listed.text
        emails = listed.json()["data"]
    return emails


def test_an_eml_put_into_the_bucket_is_linked_to_its_lead(local_stack: LocalStackProcess) -> None:
    domain, _, emulator_url, bucket = printed_drop_box(local_stack)
    tenant_id, headers, lead_id = new_lead(local_stack, "mia.wong@client-co.com")
    s3 = boto3.client(
        "s3",
        endpoint_url=emulator_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    address = dropbox_of(local_stack, headers)
    assert address.startswith(f"leads+{tenant_id}.") and address.endswith(f"@{domain}")
    raw = eml("Mia Wong <Mia.Wong@client-co.com>", f"sales@acme-co.com, {address}", "Put")
    s3.put_object(Bucket=bucket, Key=f"inbound/{uuid.uuid4().hex}.eml", Body=raw)

    emails = wait_for_links(local_stack, headers, lead_id)
    assert [(e["subject"], e["direction"], e["from"]) for e in emails] == [
        ("Put", "inbound", "mia.wong@client-co.com")
    ], f"not linked within {WAIT_S} s"


def test_the_printed_curl_command_drops_a_message_that_gets_linked(
    local_stack: LocalStackProcess, tmp_path: Path
) -> None:
    _, command, _, _ = printed_drop_box(local_stack)
    _, headers, lead_id = new_lead(local_stack, "kai@client-co.com")
    (tmp_path / "message.eml").write_bytes(
        eml("bob@acme-co.com", f"kai@client-co.com, {dropbox_of(local_stack, headers)}", "Curl")
    )

    done = subprocess.run(
        ["bash", "-c", command + " -sS -f"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr

    emails = wait_for_links(local_stack, headers, lead_id)
    assert [(e["subject"], e["direction"]) for e in emails] == [("Curl", "outbound")], (
        f"not linked within {WAIT_S} s"
    )


def test_make_dev_prints_the_demo_tenants_addresses_that_get_tenant_answers(
    local_stack: LocalStackProcess, acme_admin: dict[str, str], globex_admin: dict[str, str]
) -> None:
    printed = dict(DEMO_ADDRESS.findall(local_stack.log()))
    assert printed == {
        "acme": "leads+acme.acmedemotoken0000001@inbound.example.com",  # the README's, on every start
        "globex": "leads+globex.globexdemotoken00001@inbound.example.com",
    }, local_stack.log()
    assert dropbox_of(local_stack, acme_admin) == printed["acme"]
    assert dropbox_of(local_stack, globex_admin) == printed["globex"]
