"""Email capture (what the ingest worker runs), and linking captured emails to a lead. The API
over a lead's emails is ``linked_emails``.

A message sent (To, Cc or Bcc) to a tenant's drop-box address,
``leads+<tenant_id>.<inbound_token>@<inbound domain>`` (``dropbox``), is stored by SES in the
bucket; ``ingest_object`` reads it, finds the tenants from the drop-box recipients, checks each
one's token against its settings (one GetItem per tenant), stores the email once per Message-ID,
and links it to every lead of the tenant whose email is on its From, To or Cc line. The direction
of a link is ``inbound`` when the lead sent the email and ``outbound`` otherwise. An email that
matches no lead is stored all the same (unmatched): when a lead with one of its addresses is
created, or a lead's email changes to one of them, ``link_captured`` links it (one LOOKUP Query,
then one write per email).

What cannot be stored is recorded as rejected with its reason, and never raised: a message over
10 MB, one the parser rejects, one without a drop-box recipient, one whose drop-box address is
not the tenant's current one (a rotated or wrong token, the old address without a token, a
tenant without settings). Failures of the stores do raise, so that the queue delivers the
message again.
"""

from __future__ import annotations

import email.policy
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from typing import TYPE_CHECKING, Literal

from leads_shared import dropbox
from leads_shared.clock import utc_now
from leads_shared.data.activity_store import LeadGone
from leads_shared.data.blob_store import BlobStore, ObjectMissing, ObjectTooLarge
from leads_shared.data.mail_store import DuplicateMessage, EmailIdTaken, MailStore
from leads_shared.errors import Conflict
from leads_shared.mail_parsing import (
    MAX_MESSAGE_BYTES,
    MessageRejected,
    ParsedEmail,
    parse_message,
)
from leads_shared.models.emails import (
    MAX_SUBJECT_CHARS,
    AttachmentInfo,
    EmailLink,
    StoredEmail,
)
from leads_shared.observability import logger

if TYPE_CHECKING:
    from leads_shared.data.record_store import RecordStore
    from leads_shared.data.tenant_store import TenantStore
    from leads_shared.models.leads import Lead

# Addresses of one message that are looked up and indexed (From first, then To, then Cc): one
# transaction holds the email, its Message-ID marker and these.
MAX_PARTICIPANTS = 50
# Kept per address line of a stored email (the raw message in S3 has them all).
MAX_STORED_ADDRESSES = 100
MAX_STORED_ATTACHMENTS = 100
# A DynamoDB item holds 400 KB; the body of a stored email keeps at most this many UTF-8 bytes.
MAX_BODY_BYTES = 300_000
# Rejected-message records expire (DynamoDB TTL) after this long.
REJECTED_RETENTION_S = 90 * 24 * 3600


@dataclass(frozen=True)
class IngestResult:
    outcome: Literal["stored", "duplicate", "rejected"]
    tenant_id: str | None = None
    email_id: int | None = None
    lead_ids: tuple[int, ...] = ()
    reason: str | None = None


@dataclass
class Inbox:
    """What ingesting needs: the stores, and the drop-box domain."""

    inbound_domain: str
    blobs: BlobStore
    mail: MailStore
    records: RecordStore
    tenants: TenantStore


def _fit_body(text: str) -> str:
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= MAX_BODY_BYTES:
        return text
    return encoded[:MAX_BODY_BYTES].decode("utf-8", "ignore")


def _participants(parsed: ParsedEmail, inbound_domain: str) -> list[str]:
    """From, To and Cc addresses in that order, without drop-box addresses, at most 50."""
    domain = "@" + inbound_domain.strip().lower()
    ordered = dict.fromkeys(a for a in (parsed.from_address, *parsed.to, *parsed.cc) if a)
    return [a for a in ordered if not a.endswith(domain) and len(a) <= 254][:MAX_PARTICIPANTS]


def captured_email(
    tenant_id: str, email_id: int, parsed: ParsedEmail, bucket: str, key: str, now: str
) -> StoredEmail:
    return StoredEmail(
        tenant_id=tenant_id,
        id=email_id,
        source="captured",
        message_id=parsed.message_id,
        subject=parsed.subject[:MAX_SUBJECT_CHARS],
        from_address=parsed.from_address,
        from_name=parsed.from_name,
        to=parsed.to[:MAX_STORED_ADDRESSES],
        cc=parsed.cc[:MAX_STORED_ADDRESSES],
        # A message without a readable Date is dated when it arrived.
        sent_at=parsed.sent_at or now,
        body=_fit_body(parsed.body_text),
        snippet=parsed.snippet,
        attachments=[
            AttachmentInfo(filename=a.filename, content_type=a.content_type, size=a.size)
            for a in parsed.attachments[:MAX_STORED_ATTACHMENTS]
        ],
        size=parsed.size,
        s3_bucket=bucket,
        s3_key=key,
        state="linking",
        created_at=now,
    )


def ses_verdict_problem(raw: bytes) -> str | None:
    """Why SES's own verdicts (its ``X-SES-*-Verdict`` headers, first occurrence: SES prepends
    them) say the message must not be kept, or None. A virus or spam is refused; so is a message
    whose sender fails both SPF and DKIM (a forged ``From``: it would be linked to a lead as sent
    by the lead). Messages without verdicts (dropped in locally) pass."""
    headers = BytesHeaderParser(policy=email.policy.default).parsebytes(raw[: 256 * 1024])

    def failed(name: str) -> bool:
        return str(headers.get(f"X-SES-{name}-Verdict", "")).strip().upper() == "FAIL"

    if failed("Virus"):
        return "SES found a virus in the message."
    if failed("Spam"):
        return "SES marked the message as spam."
    if failed("SPF") and failed("DKIM"):
        return "The sender could not be verified (SPF and DKIM both failed)."
    return None


def ingest_object(bucket: str, key: str, size: int | None, inbox: Inbox) -> list[IngestResult]:
    """Capture one object of the inbound prefix: one result per drop-box tenant (one, nearly
    always), or one rejection."""
    now = utc_now()

    def reject(reason: str, tenant_id: str | None = None) -> list[IngestResult]:
        result = IngestResult("rejected", tenant_id=tenant_id, reason=reason)
        _record_rejection(inbox, bucket, key, size, result, now)
        return [result]

    if size is not None and size > MAX_MESSAGE_BYTES:
        return reject("The message is larger than 10 MB.")
    try:
        raw = inbox.blobs.read(bucket, key, MAX_MESSAGE_BYTES)
    except ObjectMissing:
        return reject("The stored message no longer exists.")
    except ObjectTooLarge:
        return reject("The message is larger than 10 MB.")
    try:
        parsed = parse_message(raw)
        tokens_of = dropbox.by_tenant(dropbox.recipients(raw, inbox.inbound_domain))
    except MessageRejected as rejected:
        return reject(rejected.reason)
    distrusted = ses_verdict_problem(raw)
    if distrusted:
        return reject(distrusted)
    if not tokens_of:
        form = dropbox.expected_form(inbox.inbound_domain)
        return reject(f"No drop-box address ({form}) among the recipients.")
    results = []
    for tenant_id, tokens in tokens_of.items():
        refused = dropbox.refusal(inbox.tenants.settings(tenant_id), tokens)
        if refused and not (refused.was_valid and inbox.mail.has_message(tenant_id, parsed.message_id)):
            results.extend(reject(refused.reason, tenant_id))
            continue
        # (A refused address that was valid once may finish a message the tenant stored from
        # it before: a redelivery after a rotation, which then is a duplicate.)
        results.append(_store(tenant_id, parsed, bucket, key, now, inbox))
    return results


def _record_rejection(
    inbox: Inbox, bucket: str, key: str, size: int | None, result: IngestResult, now: str
) -> None:
    logger.warning(
        "inbound email rejected",
        extra={"bucket": bucket, "key": key, "reason": result.reason, "tenant_id": result.tenant_id},
    )
    inbox.mail.put_rejected(
        now[:10],
        bucket,
        key,
        {
            "bucket": bucket,
            "key": key,
            "size": size,
            "reason": result.reason,
            "tenant_id": result.tenant_id,
            "received_at": now,
            "expires_at": int(time.time()) + REJECTED_RETENTION_S,
        },
    )


def _lead_ids_for(mail: MailStore, tenant_id: str, addresses: Iterable[str]) -> dict[int, str]:
    """The tenant's leads with one of ``addresses`` as their email: ``{lead id: that address}``
    (one LOOKUP Query per address)."""
    found: dict[int, str] = {}
    for address in addresses:
        for lead_id in mail.lead_ids_with_email(tenant_id, address):
            found.setdefault(lead_id, address)
    return found


def _store(
    tenant_id: str, parsed: ParsedEmail, bucket: str, key: str, now: str, inbox: Inbox
) -> IngestResult:
    addresses = _participants(parsed, inbox.inbound_domain)
    leads = _lead_ids_for(inbox.mail, tenant_id, addresses)
    email_id = inbox.records.reserve(tenant_id, ["email"])["email"]
    email = captured_email(tenant_id, email_id, parsed, bucket, key, now)
    email.matched = bool(leads)
    try:
        inbox.mail.store_captured(email, addresses)
    except DuplicateMessage as duplicate:
        existing = inbox.mail.email(tenant_id, duplicate.email_id)
        if existing is None or existing.state == "stored":
            logger.info(
                "duplicate email delivery", extra={"tenant_id": tenant_id, "email_id": duplicate.email_id}
            )
            return IngestResult("duplicate", tenant_id=tenant_id, email_id=duplicate.email_id)
        email = existing  # an earlier delivery stopped before linking: finish its work
    except EmailIdTaken:
        raise Conflict("The email could not be given an id.") from None
    linked = []
    for lead_id, address in leads.items():
        try:
            inbox.mail.add_link(EmailLink.of(email.summary(), tenant_id, lead_id, address, now))
        except LeadGone:  # deleted since the lookup
            continue
        linked.append(lead_id)
    inbox.mail.mark_stored(tenant_id, email.id)
    logger.info("email captured", extra={"tenant_id": tenant_id, "email_id": email.id, "lead_ids": linked})
    return IngestResult("stored", tenant_id=tenant_id, email_id=email.id, lead_ids=tuple(linked))


def link_captured(lead: Lead, mail: MailStore) -> list[int]:
    """Link to ``lead`` every email of its tenant captured for its address (a new lead, or one
    whose email changed): one LOOKUP Query, then one write per email not linked yet. Returns
    the ids of the emails it linked."""
    if not lead.email:
        return []
    now = utc_now()
    linked = []
    for row in mail.emails_sent_to(lead.tenant_id, lead.email):
        link = EmailLink.of(row, lead.tenant_id, lead.id, lead.email, now)
        try:
            if mail.add_link(link):
                linked.append(link.id)
        except LeadGone:  # deleted meanwhile: nothing more to link to
            break
    return linked
