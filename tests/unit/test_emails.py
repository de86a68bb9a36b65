"""Email capture rules without AWS: which drop-box addresses a message was sent to, and which of
them a tenant's settings accept; which objects an S3 event names, the direction of a link, and the
body of a hand-logged email."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from leads_shared import dropbox
from leads_shared.dropbox import Recipient, recipients, refusal
from leads_shared.mail_parsing import snippet_of
from leads_shared.models.emails import EmailLink, LinkedEmailCreate
from leads_shared.models.tenant import TenantSettings
from leads_shared.s3_events import created_objects
from leads_shared.tenants import dropbox_address, new_inbound_token

DOMAIN = "inbound.example.com"
TOKEN = "k3v9q2m8x7w4t6p1r5z0"
DROPBOX = f"leads+acme.{TOKEN}@inbound.example.com"


def raw(*headers: str) -> bytes:
    return ("\r\n".join([*headers, "", "body"]) + "\r\n").encode()


@pytest.mark.parametrize(
    ("headers", "found"),
    [
        ([f"To: Leads <{DROPBOX}>"], [("acme", TOKEN)]),
        # the tenant id as written (ids are case-sensitive), the token in any case, read lower
        (["To: a@b.com", f"Cc: x@y.com, LEADS+Acme.EU.{TOKEN.upper()}@Inbound.Example.com"],
         [("Acme.EU", TOKEN)]),
        (["To: a@b.com", f"Received: from x by inbound-smtp with SMTP id 1 for {DROPBOX}; d"],
         [("acme", TOKEN)]),  # a Bcc: only the delivery header names it
        ([f"To: {DROPBOX}, leads+globex.{'g' * 20}@inbound.example.com"],
         [("acme", TOKEN), ("globex", "g" * 20)]),
        ([f"To: {DROPBOX}", f"Cc: {DROPBOX}"], [("acme", TOKEN)]),  # once each
        # the old form, without a token (refused by the tenant's settings, not here)
        (["To: leads+acme@inbound.example.com"], [("acme", None)]),
        (["To: leads+acme.eu@inbound.example.com"], [("acme.eu", None)]),  # "eu" is no token
        ([f"To: {DROPBOX.replace('.com', '.com.evil.com')}"], []),  # a look-alike domain
        ([f"To: leads+acme.{TOKEN}@other.example.com"], []),
        ([f"To: sales+acme.{TOKEN}@inbound.example.com"], []),
        ([f"To: myleads+acme.{TOKEN}@inbound.example.com"], []),  # inside a longer address
        ([f"To: leads+ac#me.{TOKEN}@inbound.example.com"], []),  # not a tenant id
    ],
)  # fmt: skip
def test_the_drop_box_recipients_name_the_tenant_and_the_token(headers, found):
    assert recipients(raw("From: a@b.com", *headers), DOMAIN) == [Recipient(t, token) for t, token in found]


def settings(tenant_id: str = "acme", token: str = TOKEN, retired: tuple[str, ...] = ()) -> TenantSettings:
    now = "2026-01-01T00:00:00.000000Z"
    return TenantSettings(
        tenant_id=tenant_id, name=tenant_id, inbound_token=token,
        retired_inbound_tokens=list(retired), created_at=now, updated_at=now,
    )  # fmt: skip


def test_only_the_tenants_current_token_opens_its_drop_box():
    old = "a" * 20
    current = settings(retired=(old,))
    assert refusal(current, [TOKEN]) is None
    assert refusal(current, [old, TOKEN]) is None  # one current address is enough
    assert refusal(current, [old]) == dropbox.Refusal(dropbox.ROTATED, was_valid=True)
    assert refusal(current, [None]) == dropbox.Refusal(dropbox.NO_TOKEN, was_valid=True)
    assert refusal(current, ["b" * 20]) == dropbox.Refusal(dropbox.WRONG_TOKEN)
    assert refusal(None, [TOKEN]) == dropbox.Refusal(dropbox.NO_ADDRESS)  # no settings: no address yet
    # another tenant's current token is just a wrong one here
    assert refusal(settings("globex", "c" * 20), [TOKEN]) == dropbox.Refusal(dropbox.WRONG_TOKEN)


def test_a_new_token_is_20_lower_case_letters_and_digits_and_the_address_carries_it():
    tokens = {new_inbound_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) == 20 and t.isascii() and t.isalnum() and t == t.lower() for t in tokens)
    address = dropbox_address(settings(), DOMAIN)
    assert address == DROPBOX
    assert recipients(raw("From: a@b.com", f"To: {address}"), DOMAIN) == [Recipient("acme", TOKEN)]


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
    return ("\r\n".join([*lines, "From: a@b.com", f"To: {DROPBOX}", "Subject: s", "", "hi"])).encode()


def test_ses_verdicts_refuse_viruses_spam_and_forged_senders():
    from leads_shared.email_capture import ses_verdict_problem

    assert "virus" in (ses_verdict_problem(_with_verdicts(Virus="FAIL")) or "")
    assert "spam" in (ses_verdict_problem(_with_verdicts(Spam="FAIL", Virus="PASS")) or "")
    assert "SPF and DKIM" in (ses_verdict_problem(_with_verdicts(SPF="FAIL", DKIM="FAIL")) or "")
    # A forwarded message often fails SPF alone: DKIM still vouches for the sender.
    assert ses_verdict_problem(_with_verdicts(SPF="FAIL", DKIM="PASS", Spam="PASS", Virus="PASS")) is None
    assert ses_verdict_problem(_with_verdicts()) is None  # dropped in locally: no verdicts
