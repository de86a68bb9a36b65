"""Delivering mail in integration tests: a raw message stored in the emulator's bucket under the
inbound prefix, as SES stores it, and the ingest function run on its S3 event as the email queue
delivers it; MIME samples; what the API then lists, and what capture recorded as rejected."""

from __future__ import annotations

import json
import uuid
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote_plus

from devstack.emulator import Emulator
from devstack.runtime import LambdaFunction
from leads_shared.clock import utc_now
from leads_shared.config import get_settings
from leads_shared.data import get_mail_store


def s3_event(bucket: str, key: str, size: int) -> dict[str, Any]:
    """An S3 ObjectCreated notification as S3 sends it (keys URL-encoded)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-01-21T16:00:06.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key), "size": size},
                },
            }
        ]
    }


def sqs_event(*bodies: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:leads-email-ingest-dev",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def deliver(
    emulator: Emulator, ingest: LambdaFunction, raw: bytes, *, key: str | None = None, size: int | None = None
) -> dict[str, Any]:
    """Store ``raw`` in the inbound prefix as SES would, and run the ingest function on its event."""
    bucket = get_settings().bucket_name
    assert bucket
    key = key or f"inbound/{uuid.uuid4().hex}"
    emulator.client("s3").put_object(Bucket=bucket, Key=key, Body=raw)
    result: dict[str, Any] = ingest.invoke(
        sqs_event(s3_event(bucket, key, len(raw) if size is None else size))
    )
    return result


OK = {"batchItemFailures": []}


# ------------------------------------------------------------------ MIME samples
def message(
    sender: str, to: list[str], *, cc: list[str] = (), subject: str = "Hello", msgid: str | None = None
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = "Tue, 20 Jan 2026 10:15:00 +0100"
    msg["Message-ID"] = msgid or f"<{uuid.uuid4().hex}@mail.example.com>"
    return msg


def alternative(sender: str, to: list[str], **kw: Any) -> bytes:
    msg = message(sender, to, **kw)
    msg.set_content("Hi Bob,\n\nThursday works.\n\nJane")
    msg.add_alternative(
        "<html><body><p>Hi <b>Bob</b>,</p><p>Thursday works.</p><p>Jane</p></body></html>", subtype="html"
    )
    return msg.as_bytes()


def linked(caller: Any, lead_id: int) -> list[dict[str, Any]]:
    response = caller.get(f"/leads/{lead_id}/linked-emails")
    assert response.status_code == 200, response.json
    data: list[dict[str, Any]] = response.json["data"]
    return data


def rejection(key: str, since: str) -> dict[str, Any]:
    """The rejection of ``key``, filed under the UTC day it happened: ``since`` (taken before the
    delivery) or today, if the run crossed midnight."""
    days = sorted({since[:10], utc_now()[:10]})
    (found,) = [r for day in days for r in get_mail_store().rejected(day) if r["key"] == key]
    return found
