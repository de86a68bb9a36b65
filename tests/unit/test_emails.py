"""Email capture rules without AWS: which tenant a message was dropped for, which objects an S3
event names, the direction of a link, and the body of a hand-logged email."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from leads_shared.emails import dropbox_tenants, snippet_of
from leads_shared.models.emails import EmailLink, LinkedEmailCreate
from leads_shared.s3_events import created_objects

DOMAIN = "inbound.example.com"
DROPBOX = "leads+acme@inbound.example.com"


def raw(*headers: str) -> bytes:
    return ("\r\n".join([*headers, "", "body"]) + "\r\n").encode()


@pytest.mark.parametrize(
    ("headers", "tenants"),
    [
        (["To: Leads <leads+acme@inbound.example.com>"], ["acme"]),
        (["To: a@b.com", "Cc: x@y.com, LEADS+Acme.EU@Inbound.Example.com"], ["Acme.EU"]),  # id as written
        (["To: a@b.com", f"Received: from x by inbound-smtp with SMTP id 1 for {DROPBOX}; d"],
         ["acme"]),  # a Bcc: only the delivery header names it
        (["To: leads+acme@inbound.example.com, leads+globex@inbound.example.com"], ["acme", "globex"]),
        (["To: leads+acme@inbound.example.com.evil.com"], []),  # a look-alike domain
        (["To: leads+acme@other.example.com"], []),
        (["To: sales+acme@inbound.example.com"], []),
        (["To: leads+ac#me@inbound.example.com"], []),  # not a tenant id
    ],
)  # fmt: skip
def test_the_drop_box_recipient_names_the_tenant(headers, tenants):
    assert dropbox_tenants(raw("From: a@b.com", *headers), DOMAIN) == tenants


def test_created_objects_are_read_from_an_s3_event_with_keys_decoded():
    notification = {
        "Records": [
            {"eventName": "ObjectCreated:Put",
             "s3": {"bucket": {"name": "b"}, "object": {"key": "inbound/my+message%2B1.eml", "size": 12}}},
            {"eventName": "ObjectRemoved:Delete",
             "s3": {"bucket": {"name": "b"}, "object": {"key": "inbound/x"}}},
        ]
    }  # fmt: skip
    (found,) = created_objects(json.loads(json.dumps(notification)))
    assert (found.bucket, found.key, found.size) == ("b", "inbound/my message+1.eml", 12)
    assert created_objects({"Service": "Amazon S3", "Event": "s3:TestEvent"}) == []


@pytest.mark.parametrize(
    ("lead_email", "sender", "direction"),
    [
        ("Jane@Example.com", "jane@example.com", "inbound"),
        ("jane@example.com", "bob@acme.com", "outbound"),
        (None, "bob@acme.com", "outbound"),
        ("jane@example.com", None, "outbound"),
    ],
)
def test_an_email_is_inbound_only_when_the_lead_sent_it(lead_email, sender, direction):
    summary = {
        "id": 7,
        "source": "captured",
        "subject": "s",
        "from_address": sender,
        "sent_at": "x",
        "snippet": "",
    }
    assert EmailLink.of(summary, "acme", 1, lead_email, "now").direction == direction


def test_the_snippet_is_the_first_200_characters_with_whitespace_collapsed():
    assert snippet_of("  Hello\n\n  world\t!  ") == "Hello world !"
    assert snippet_of("word " * 100) == ("word " * 40).strip()


def test_a_logged_email_takes_one_or_many_recipients_and_any_iso_time():
    body = {"subject": " Hi ", "body": "b", "direction": "outbound", "sent_at": "2026-01-02T03:04:05+02:00"}
    one = LinkedEmailCreate.model_validate({**body, "from": "Bob@Acme.com", "to": "Jane@Example.com"})
    assert (one.subject, one.from_, one.to) == ("Hi", "bob@acme.com", ["jane@example.com"])
    assert one.sent_at == "2026-01-02T01:04:05.000000Z"
    naive = LinkedEmailCreate.model_validate(
        {**body, "sent_at": "2026-01-02T03:04:05", "to": ["a@b.com", ""]}
    )
    assert naive.sent_at == "2026-01-02T03:04:05.000000Z" and naive.to == ["a@b.com"] and naive.from_ is None
    with pytest.raises(ValidationError):
        LinkedEmailCreate.model_validate({**body, "to": [f"a{i}@b.com" for i in range(51)]})


def _with_verdicts(**verdicts: str) -> bytes:
    lines = [f"X-SES-{name}-Verdict: {value}" for name, value in verdicts.items()]
    return (
        "\r\n".join([*lines, "From: a@b.com", "To: leads+acme@in.example.com", "Subject: s", "", "hi"])
    ).encode()


def test_ses_verdicts_refuse_viruses_spam_and_forged_senders():
    from leads_shared.emails import ses_verdict_problem

    assert "virus" in (ses_verdict_problem(_with_verdicts(Virus="FAIL")) or "")
    assert "spam" in (ses_verdict_problem(_with_verdicts(Spam="FAIL", Virus="PASS")) or "")
    assert "SPF and DKIM" in (ses_verdict_problem(_with_verdicts(SPF="FAIL", DKIM="FAIL")) or "")
    # A forwarded message often fails SPF alone: DKIM still vouches for the sender.
    assert ses_verdict_problem(_with_verdicts(SPF="FAIL", DKIM="PASS", Spam="PASS", Virus="PASS")) is None
    assert ses_verdict_problem(_with_verdicts()) is None  # dropped in locally: no verdicts
