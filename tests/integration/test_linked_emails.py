"""Emails linked to leads: capture through the ingest function (real MIME messages stored in the
emulator's bucket, delivered as the SQS messages of S3 events), the linked-emails routes, and what
each costs in DynamoDB requests."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import unquote_plus

import pytest

from devstack.poller import sqs_record
from devstack.seed import dropbox_address as dropbox
from leads_shared import dropbox as dropbox_rules
from leads_shared.clock import utc_now
from leads_shared.config import get_settings
from leads_shared.data import get_lead_store, get_mail_store
from leads_shared.data.dynamo import meter
from leads_shared.data.mail_store import MailStore
from leads_shared.errors import ServiceUnavailable
from leads_shared.keys import LeadKeys
from tests.support.clients import lead_body
from tests.support.mail import (
    OK,
    alternative,
    deliver,
    linked,
    message,
    rejection,
    s3_event,
    sqs_event,
)

SUMMARY_KEYS = {
    "id",
    "message_id",
    "subject",
    "from",
    "to",
    "cc",
    "sent_at",
    "snippet",
    "direction",
    "has_attachments",
}


# ------------------------------------------------------------------ capture
def test_a_multipart_alternative_email_from_a_lead_is_linked_to_it_as_inbound(emulator, ingest, tenant, bob):
    lead = bob.post("/leads", lead_body(email="Jane.Roe@Example.com")).json
    raw = alternative(
        "Jane Roe <jane.roe@example.com>", ["Bob Baker <bob@acme-co.com>"], cc=[dropbox(tenant.tenant_id)],
        subject="Re: Demo", msgid="<reply-1@example.com>",
    )  # fmt: skip

    assert deliver(emulator, ingest, raw) == OK

    (email,) = linked(bob, lead["id"])
    assert set(email) == SUMMARY_KEYS
    assert email["message_id"] == "reply-1@example.com" and email["subject"] == "Re: Demo"
    assert email["from"] == "jane.roe@example.com" and email["to"] == ["bob@acme-co.com"]
    assert email["cc"] == [dropbox(tenant.tenant_id).lower()]
    assert email["sent_at"] == "2026-01-20T09:15:00.000000Z"
    assert email["direction"] == "inbound" and email["has_attachments"] is False
    assert email["snippet"] == "Hi Bob, Thursday works. Jane"  # the plain part, not the HTML
    whole = bob.get(f"/leads/{lead['id']}/linked-emails/{email['id']}").json
    assert whole["body"] == "Hi Bob,\n\nThursday works.\n\nJane"
    assert whole["from_name"] == "Jane Roe" and whole["attachments"] == [] and whole["source"] == "captured"
    assert not {"tenant_id", "PK", "SK", "s3_key", "state"} & set(whole)


def test_an_html_only_email_sent_to_a_lead_is_outbound_with_its_text(emulator, ingest, tenant, bob):
    lead = bob.post("/leads", lead_body(email="ann@client-co.com")).json
    msg = message("bob@acme-co.com", ["Ann <ann@client-co.com>"], cc=[dropbox(tenant.tenant_id)])
    msg.set_content(
        "<html><head><style>p{color:red}</style></head><body><h1>Proposal</h1>"
        "<p>Price: 10&nbsp;000&euro;</p><script>alert(1)</script></body></html>",
        subtype="html",
    )

    assert deliver(emulator, ingest, msg.as_bytes()) == OK

    (email,) = linked(bob, lead["id"])
    assert email["direction"] == "outbound"
    body = bob.get(f"/leads/{lead['id']}/linked-emails/{email['id']}").json["body"]
    assert body == "Proposal\nPrice: 10 000€"
    assert "alert" not in body and "color" not in body


def test_a_latin_1_body_and_encoded_headers_are_decoded(emulator, ingest, tenant, bob):
    lead = bob.post("/leads", lead_body(email="rene@dupre.fr")).json
    raw = (
        "From: =?ISO-8859-1?Q?Ren=E9_Dupr=E9?= <rene@dupre.fr>\r\n"
        f"To: {dropbox(tenant.tenant_id)}\r\n"
        "Subject: =?UTF-8?B?UsOpdW5pb24g4pyTIOS8muitsA==?=\r\n"
        "Date: Wed, 21 Jan 2026 08:00:00 +0000\r\n"
        "Message-ID: <latin1@dupre.fr>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="iso-8859-1"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "Bonjour, la r=E9union est confirm=E9e =E0 Paris.\r\n"
    ).encode("ascii")

    assert deliver(emulator, ingest, raw) == OK

    (email,) = linked(bob, lead["id"])
    assert email["subject"] == "Réunion ✓ 会議"
    assert email["snippet"] == "Bonjour, la réunion est confirmée à Paris."
    whole = bob.get(f"/leads/{lead['id']}/linked-emails/{email['id']}").json
    assert whole["from_name"] == "René Dupré" and whole["direction"] == "inbound"


def test_attachments_are_listed_by_name_and_size_and_stay_in_the_bucket(emulator, ingest, tenant, bob):
    lead = bob.post("/leads", lead_body(email="cfo@client-co.com")).json
    msg = message(
        "bob@acme-co.com", ["cfo@client-co.com"], cc=[dropbox(tenant.tenant_id)], subject="Contract"
    )
    msg.set_content("The contract and our logo.")
    msg.add_attachment(
        b"%PDF-1.4 " + b"x" * 1991, maintype="application", subtype="pdf", filename="contract.pdf"
    )
    msg.add_attachment(b"\x89PNG" + b"\x00" * 96, maintype="image", subtype="png", filename="logo.png")
    key = f"inbound/with attachments {uuid.uuid4().hex}+1"  # S3 URL-encodes this key in its event

    assert deliver(emulator, ingest, msg.as_bytes(), key=key) == OK

    (email,) = linked(bob, lead["id"])
    assert email["has_attachments"] is True and email["snippet"] == "The contract and our logo."
    whole = bob.get(f"/leads/{lead['id']}/linked-emails/{email['id']}").json
    assert whole["attachments"] == [
        {"filename": "contract.pdf", "content_type": "application/pdf", "size": 2000},
        {"filename": "logo.png", "content_type": "image/png", "size": 100},
    ]
    stored = emulator.client("s3").get_object(Bucket=get_settings().bucket_name, Key=key)["Body"].read()
    assert stored == msg.as_bytes()


def test_every_lead_of_the_tenant_on_from_to_or_cc_is_linked_ignoring_case(
    emulator, ingest, tenant, other_tenant, bob
):
    sender = bob.post("/leads", lead_body(first_name="Sam", email="sam@client-co.com")).json
    copied = bob.post("/leads", lead_body(first_name="Cat", email="CAT@Client-Co.com")).json
    same_address = bob.post("/leads", lead_body(first_name="Sam2", email="Sam@client-co.com")).json
    bystander = bob.post("/leads", lead_body(first_name="Other", email="other@client-co.com")).json
    elsewhere = other_tenant.as_user(2)
    foreign = elsewhere.post("/leads", lead_body(email="sam@client-co.com")).json
    raw = alternative(
        "SAM@CLIENT-CO.COM", ["bob@acme-co.com", dropbox(tenant.tenant_id)], cc=["cat@client-co.com"]
    )

    assert deliver(emulator, ingest, raw) == OK

    assert [e["direction"] for e in linked(bob, sender["id"])] == ["inbound"]
    assert [e["direction"] for e in linked(bob, same_address["id"])] == ["inbound"]
    assert [e["direction"] for e in linked(bob, copied["id"])] == ["outbound"]
    assert linked(bob, bystander["id"]) == []
    assert linked(elsewhere, foreign["id"]) == []  # the drop-box was the other tenant's


def test_a_bcc_to_the_drop_box_is_found_in_the_delivery_header(emulator, ingest, tenant, bob):
    lead = bob.post("/leads", lead_body(email="lee@client-co.com")).json
    msg = message("bob@acme-co.com", ["lee@client-co.com"])  # the drop-box is on no visible line
    msg["Received"] = (
        "from mail.acme-co.com by inbound-smtp.us-east-1.amazonaws.com with SMTP id abc "
        f"for {dropbox(tenant.tenant_id)}; Tue, 20 Jan 2026 09:15:01 +0000"
    )
    msg.set_content("Following up.")

    assert deliver(emulator, ingest, msg.as_bytes()) == OK

    assert [e["direction"] for e in linked(bob, lead["id"])] == ["outbound"]


def test_the_same_message_delivered_twice_is_stored_once(emulator, ingest, tenant, bob):
    lead = bob.post("/leads", lead_body(email="twice@client-co.com")).json
    raw = alternative("twice@client-co.com", [dropbox(tenant.tenant_id)], msgid="<same@client-co.com>")

    assert deliver(emulator, ingest, raw) == OK
    assert deliver(emulator, ingest, raw) == OK  # SES stored it again, under another key

    (email,) = linked(bob, lead["id"])
    assert email["message_id"] == "same@client-co.com"
    assert [
        row["id"] for row in get_mail_store().emails_sent_to(tenant.tenant_id, "twice@client-co.com")
    ] == [email["id"]]


def test_an_unmatched_email_is_kept_and_linked_to_a_lead_created_or_changed_later(
    emulator, ingest, tenant, bob
):
    raw = alternative("newcomer@client-co.com", [dropbox(tenant.tenant_id)], cc=["boss@client-co.com"])
    assert deliver(emulator, ingest, raw) == OK
    (row,) = get_mail_store().emails_sent_to(tenant.tenant_id, "newcomer@client-co.com")
    assert get_mail_store().email(tenant.tenant_id, row["id"]).matched is False

    created = bob.post("/leads", lead_body(email="Newcomer@Client-co.com")).json
    assert [(e["id"], e["direction"]) for e in linked(bob, created["id"])] == [(row["id"], "inbound")]

    other = bob.post("/leads", lead_body(first_name="Boss", email="someone@else-co.com")).json
    assert linked(bob, other["id"]) == []
    changed = bob.put(f"/leads/{other['id']}", lead_body(first_name="Boss", email="boss@client-co.com"))
    assert changed.status_code == 200
    assert [(e["id"], e["direction"]) for e in linked(bob, other["id"])] == [(row["id"], "outbound")]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"this is not an email at all", "The message has no headers."),
        (b"   \r\n  ", "The message is empty."),
        (b"Subject: no addresses\r\n\r\nbody", "The message has no readable sender or recipient address."),
        (
            b"From: a@client-co.com\r\nTo: b@client-co.com\r\nSubject: x\r\n\r\nnobody forwarded this",
            "No drop-box address (leads+<tenant>.<token>@inbound.example.com) among the recipients.",
        ),
        (
            b"From: a@client-co.com\r\nTo: leads+no-such-tenant.abcdefghij0123456789@inbound.example.com"
            b"\r\n\r\nhi",
            dropbox_rules.NO_ADDRESS,
        ),
        (
            b"From: a@client-co.com\r\nTo: leads+no-such-tenant@inbound.example.com\r\n\r\nhi",
            dropbox_rules.NO_TOKEN,
        ),
    ],
    ids=["garbage", "empty", "no-drop-box", "no-addresses", "unknown-tenant", "old-form"],
)
def test_what_cannot_be_stored_is_recorded_as_rejected_not_retried(emulator, ingest, raw, reason):
    key, since = f"inbound/{uuid.uuid4().hex}", utc_now()
    assert deliver(emulator, ingest, raw, key=key) == OK  # no retry: it would fail the same way
    found = rejection(key, since)
    assert found["reason"] == reason and found["bucket"] == get_settings().bucket_name
    assert found["expires_at"] > 0  # records expire (TTL)


def test_a_message_over_10_mb_is_rejected_without_being_read(emulator, ingest, tenant, monkeypatch):
    def never(*_: Any, **__: Any) -> bytes:
        raise AssertionError("read")

    monkeypatch.setattr("leads_shared.data.blob_store.BlobStore.read", never)
    key, since = f"inbound/{uuid.uuid4().hex}", utc_now()
    raw = alternative("big@client-co.com", [dropbox(tenant.tenant_id)])
    assert deliver(emulator, ingest, raw, key=key, size=10 * 1024 * 1024 + 1) == OK
    assert rejection(key, since)["reason"] == "The message is larger than 10 MB."


def test_a_store_failure_is_retried_and_the_retry_finishes_the_links(
    emulator, ingest, tenant, bob, monkeypatch
):
    lead = bob.post("/leads", lead_body(email="retry@client-co.com")).json
    raw = alternative("retry@client-co.com", [dropbox(tenant.tenant_id)])
    key = f"inbound/{uuid.uuid4().hex}"
    event = sqs_event(s3_event(get_settings().bucket_name, key, len(raw)))
    emulator.client("s3").put_object(Bucket=get_settings().bucket_name, Key=key, Body=raw)

    def throttled(*_: Any, **__: Any) -> bool:
        raise ServiceUnavailable("busy")

    with monkeypatch.context() as patched:  # the email is stored, then linking fails
        patched.setattr(MailStore, "add_link", throttled)
        answer = ingest.invoke(event)
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert linked(bob, lead["id"]) == []

    assert ingest.invoke(event) == OK  # the redelivery: a duplicate that was never finished
    assert len(linked(bob, lead["id"])) == 1
    assert ingest.invoke(event) == OK  # and from now on a duplicate
    assert len(linked(bob, lead["id"])) == 1


def test_the_bucket_event_travels_through_the_email_queue(emulator, ingest, tenant, bob):
    """The real path: S3 notification of the inbound prefix → EmailQueue → the function."""
    lead = bob.post("/leads", lead_body(email="queued@client-co.com")).json
    sqs, queue = emulator.client("sqs"), emulator.resources["EmailQueue"]
    while stale := sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get("Messages", []):
        for leftover in stale:  # what earlier tests' inbound objects left on the queue
            sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=leftover["ReceiptHandle"])
    key = f"inbound/{uuid.uuid4().hex}"
    emulator.client("s3").put_object(
        Bucket=get_settings().bucket_name,
        Key=key,
        Body=alternative("queued@client-co.com", [dropbox(tenant.tenant_id)]),
    )
    mine = None
    for _ in range(20):
        for received in sqs.receive_message(
            QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            records = json.loads(received["Body"]).get("Records", [])
            if [unquote_plus(r["s3"]["object"]["key"]) for r in records] == [key]:  # S3 URL-encodes keys
                mine = received
        if mine:
            break
    assert mine is not None, "no S3 event for the inbound object on EmailQueue"

    assert ingest.invoke({"Records": [sqs_record(mine, queue.arn)]}) == OK

    assert [e["direction"] for e in linked(bob, lead["id"])] == ["inbound"]


# ------------------------------------------------------------------ logging, unlinking, tenants
def test_an_email_logged_by_hand_is_listed_newest_first(tenant):
    bob = tenant.as_user(2, email="bob@acme-co.com")
    lead = bob.post("/leads", lead_body(email="Logged@Client-co.com")).json
    url = f"/leads/{lead['id']}/linked-emails"
    recap = {"subject": "Call recap", "body": "  Thanks  for\nthe call. ", "direction": "outbound"}
    first = bob.post(url, {**recap, "sent_at": "2026-01-22T15:30:00+01:00"})
    assert first.status_code == 201, first.json
    assert first.json["from"] == "bob@acme-co.com" and first.json["to"] == ["logged@client-co.com"]
    assert first.json["sent_at"] == "2026-01-22T14:30:00.000000Z"
    assert first.json["body"] == "Thanks  for\nthe call." and first.json["snippet"] == "Thanks for the call."
    assert first.json["message_id"] is None and first.json["source"] == "logged"
    second = bob.post(url, {"subject": "Question", "body": "When?", "direction": "inbound",
                            "sent_at": "2026-01-23T08:00:00Z", "to": "sales@acme-co.com"})  # fmt: skip
    assert second.json["from"] == "logged@client-co.com" and second.json["to"] == ["sales@acme-co.com"]

    listed = linked(bob, lead["id"])
    assert [e["id"] for e in listed] == [second.json["id"], first.json["id"]]
    assert [e["direction"] for e in listed] == ["inbound", "outbound"]
    assert bob.get(f"{url}/{first.json['id']}").json == first.json


def test_logging_an_email_validates_its_body(bob):
    lead = bob.post("/leads", lead_body()).json
    bad = {"subject": " ", "direction": "sideways", "sent_at": "yesterday", "from": "not-an-address"}
    response = bob.post(f"/leads/{lead['id']}/linked-emails", {**bad, "to": ["x@y-co.com", "nope"]})
    assert response.status_code == 422
    assert response.json["errors"] == {
        "subject": ["The subject field is required."],
        "body": ["The body field is required."],
        "direction": ["The selected direction is invalid. Allowed values: inbound, outbound."],
        "sent_at": ["The sent at field must be a valid date and time (ISO 8601)."],
        "from": ["The from field must be a valid email address."],
        "to.1": ["The to field must be a valid email address."],
    }
    assert response.json["message"] == "The subject field is required. (and 5 more errors)"
    assert bob.post("/leads/999999/linked-emails", {"subject": "s", "body": "b", "direction": "inbound",
                    "sent_at": "2026-01-01T00:00:00Z"}).status_code == 404  # fmt: skip


def test_unlinking_removes_the_email_from_that_lead_only(emulator, ingest, tenant, bob):
    one = bob.post("/leads", lead_body(email="one@client-co.com")).json
    two = bob.post("/leads", lead_body(email="two@client-co.com")).json
    assert (
        deliver(
            emulator,
            ingest,
            alternative("one@client-co.com", ["two@client-co.com", dropbox(tenant.tenant_id)]),
        )
        == OK
    )
    (email,) = linked(bob, one["id"])

    response = bob.delete(f"/leads/{one['id']}/linked-emails/{email['id']}")
    assert response.status_code == 200 and response.json == {"success": True}
    assert linked(bob, one["id"]) == []
    assert bob.get(f"/leads/{one['id']}/linked-emails/{email['id']}").json == {"message": "Email not found."}
    assert bob.delete(f"/leads/{one['id']}/linked-emails/{email['id']}").status_code == 404
    assert [e["id"] for e in linked(bob, two["id"])] == [email["id"]]  # still linked there


def test_another_tenants_lead_or_email_is_a_404(emulator, ingest, tenant, other_tenant, bob):
    lead = bob.post("/leads", lead_body(email="mine@client-co.com")).json
    assert deliver(emulator, ingest, alternative("mine@client-co.com", [dropbox(tenant.tenant_id)])) == OK
    (email,) = linked(bob, lead["id"])
    stranger = other_tenant.as_user(1)
    own = stranger.post("/leads", lead_body(email="theirs@client-co.com")).json  # same id in its tenant
    assert own["id"] == lead["id"]
    base = f"/leads/{lead['id']}/linked-emails"
    for method, path, body in (
        ("GET", f"{base}/{email['id']}", None),
        ("DELETE", f"{base}/{email['id']}", None),
    ):
        response = stranger.request(method, path, json_body=body)
        assert response.status_code == 404 and response.json == {"message": "Email not found."}, method
    assert stranger.get(f"{base}/{email['id']}").json == {"message": "Email not found."}
    assert linked(stranger, own["id"]) == []
    assert stranger.get("/leads/999999/linked-emails").json == {"message": "Lead not found."}
    assert linked(bob, lead["id"]) == [email]  # untouched


def test_removing_a_lead_for_good_deletes_its_email_links_not_the_emails(
    emulator, ingest, tenant, alice, bob
):
    lead = bob.post("/leads", lead_body(email="gone@client-co.com")).json
    assert deliver(emulator, ingest, alternative("gone@client-co.com", [dropbox(tenant.tenant_id)])) == OK
    (email,) = linked(bob, lead["id"])

    assert alice.delete(f"/leads/{lead['id']}", query={"permanent": "true"}).status_code == 200
    assert alice.last_cost["by_operation"] == {"Query": 2, "TransactWriteItems": 1}  # link in the transaction

    store = get_lead_store()
    left = store.client.query(
        TableName=store.table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": LeadKeys.pk(tenant.tenant_id, lead["id"])}},
    )["Items"]
    assert left == []
    assert get_mail_store().email(tenant.tenant_id, email["id"]) is not None


# ------------------------------------------------------------------ costs (the README's table)
def test_what_capture_and_the_routes_cost(emulator, ingest, tenant, bob):
    lead = bob.post("/leads", lead_body(email="cost@client-co.com")).json
    raw = alternative(
        "cost@client-co.com", ["a@client-co.com", dropbox(tenant.tenant_id)], cc=["b@client-co.com"]
    )
    meter.reset()
    assert deliver(emulator, ingest, raw) == OK
    # the tenant's settings (its token), a LOOKUP Query per address (3), an id, the email with
    # its marker and 3 participants, the link, the "stored" mark
    assert meter.snapshot()["by_operation"] == {
        "GetItem": 1, "Query": 3, "UpdateItem": 2, "TransactWriteItems": 2,
    }  # fmt: skip
    meter.reset()
    assert deliver(emulator, ingest, raw) == OK  # a duplicate: reads the marker and the email
    assert meter.snapshot()["by_operation"] == {
        "GetItem": 3, "Query": 3, "UpdateItem": 1, "TransactWriteItems": 1,
    }  # fmt: skip

    url = f"/leads/{lead['id']}/linked-emails"
    (email,) = linked(bob, lead["id"])
    assert bob.last_cost["by_operation"] == {"Query": 1} and bob.last_cost["items_read"] == 2
    bob.get(f"{url}/{email['id']}")
    assert bob.last_cost["by_operation"] == {"BatchGetItem": 1} and bob.last_cost["items_read"] == 3
    logged = bob.post(
        url, {"subject": "s", "body": "b", "direction": "inbound", "sent_at": "2026-01-01T00:00:00Z"}
    )
    assert bob.last_cost["by_operation"] == {"GetItem": 1, "UpdateItem": 1, "TransactWriteItems": 1}
    bob.delete(f"{url}/{email['id']}")
    assert bob.last_cost["by_operation"] == {"GetItem": 1, "TransactWriteItems": 1}
    bob.delete(f"{url}/{logged.json['id']}")
    # a logged email goes with its link, in the same transaction
    assert bob.last_cost["by_operation"] == {"GetItem": 1, "TransactWriteItems": 1}
    assert (
        get_mail_store().get_values(
            {"PK": f"TENANT#{tenant.tenant_id}#MAIL#{logged.json['id']}", "SK": "MAIL"}
        )
        is None
    )

    bob.post("/leads", lead_body(email="a@client-co.com"))  # one captured email to link
    # Queries: the email's match entries (duplicates at the door), the captured emails to link
    assert bob.last_cost["by_operation"] == {"BatchGetItem": 1, "Query": 2, "TransactWriteItems": 2}


def test_removing_a_lead_for_good_deletes_the_emails_logged_on_it_not_captured_ones(
    emulator, ingest, tenant, alice, bob
):
    lead = bob.post("/leads", lead_body(email="ann@client-co.com")).json
    mail_from_ann = message("ann@client-co.com", [dropbox(tenant.tenant_id)])
    mail_from_ann.set_content("Hi")
    assert deliver(emulator, ingest, mail_from_ann.as_bytes()) == OK
    (captured,) = linked(bob, lead["id"])
    url = f"/leads/{lead['id']}/linked-emails"
    logged = bob.post(
        url, {"subject": "s", "body": "b", "direction": "inbound", "sent_at": "2026-01-01T00:00:00Z"}
    )
    assert logged.status_code == 201
    assert alice.delete(f"/leads/{lead['id']}", query={"permanent": "true"}).status_code == 200
    mail = get_mail_store()
    assert (
        mail.get_values({"PK": f"TENANT#{tenant.tenant_id}#MAIL#{logged.json['id']}", "SK": "MAIL"}) is None
    )
    assert (
        mail.get_values({"PK": f"TENANT#{tenant.tenant_id}#MAIL#{captured['id']}", "SK": "MAIL"}) is not None
    )


def test_a_message_to_many_with_a_huge_body_is_stored_within_dynamodbs_limits(emulator, ingest, tenant, bob):
    """One transaction holds at most 100 items and an item 400 KB: the first 50 addresses are
    indexed (From, To, then Cc), and the body keeps at most 300,000 bytes of UTF-8."""
    to = [f"person{n}@client-co.com" for n in range(120)]
    first = bob.post("/leads", lead_body(email=to[0])).json
    last_indexed = bob.post("/leads", lead_body(email=to[48])).json  # From is the 1st of the 50
    beyond = bob.post("/leads", lead_body(email=to[49])).json
    msg = message("bob@acme-co.com", [*to, dropbox(tenant.tenant_id)], subject="To everyone")
    msg.set_content("🙂" * 100_000)  # 400,000 bytes of UTF-8
    assert deliver(emulator, ingest, msg.as_bytes()) == OK

    assert len(linked(bob, first["id"])) == len(linked(bob, last_indexed["id"])) == 1
    assert linked(bob, beyond["id"]) == []
    email_id = linked(bob, first["id"])[0]["id"]
    body = bob.get(f"/leads/{first['id']}/linked-emails/{email_id}").json["body"]
    assert 299_990 < len(body.encode("utf-8")) <= 300_000 and set(body.strip()) == {"🙂"}
