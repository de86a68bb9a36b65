"""The lead's emails (``/leads/{id}/linked-emails``): list them, read one, log one by hand, and
unlink one. What the capture pipeline stores and links is in ``email_capture``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leads_shared.clock import utc_now
from leads_shared.data.activity_store import ChildConflict, LeadGone
from leads_shared.data.mail_store import EmailIdTaken, MailStore
from leads_shared.errors import Conflict, NotFound
from leads_shared.mail_parsing import snippet_of
from leads_shared.models.emails import EmailLink, LinkedEmailCreate, StoredEmail

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.lead_store import LeadStore
    from leads_shared.data.record_store import RecordStore


def list_linked(principal: Principal, lead_id: int, mail: MailStore) -> list[EmailLink]:
    """The lead's emails, newest first (by sent_at, then id): one Query (404 without the lead)."""
    links = mail.links(principal.tenant_id, lead_id)
    if links is None:
        raise NotFound("Lead")
    return sorted(links, key=lambda link: (link.sent_at, link.id), reverse=True)


def get_linked(
    principal: Principal, lead_id: int, email_id: int, mail: MailStore
) -> tuple[EmailLink, StoredEmail]:
    """One email of the lead, whole: one BatchGetItem (the lead, the link, the email)."""
    lead_exists, link, email = mail.link_with_email(principal.tenant_id, lead_id, email_id)
    if not lead_exists:
        raise NotFound("Lead")
    if link is None or email is None:
        raise NotFound("Email")
    return link, email


def log_email(
    principal: Principal,
    lead_id: int,
    data: LinkedEmailCreate,
    leads: LeadStore,
    mail: MailStore,
    records: RecordStore,
) -> tuple[EmailLink, StoredEmail]:
    """An email logged by hand on a lead. Without ``from``/``to``, the lead's address stands on
    its side and the caller's (from the token, when it has one) on the other. Three requests:
    read the lead, take an id, then one transaction (the lead still exists, the email, its link)."""
    lead = leads.get(principal.tenant_id, lead_id)
    if lead is None:
        raise NotFound("Lead")
    lead_address = lead.email.lower() if lead.email else None
    caller_address = principal.email.lower() if principal.email else None
    if data.direction == "inbound":
        sender, recipients = data.from_ or lead_address, data.to or [caller_address]
    else:
        sender, recipients = data.from_ or caller_address, data.to or [lead_address]
    now = utc_now()
    email = StoredEmail(
        tenant_id=principal.tenant_id,
        id=records.reserve(principal.tenant_id, ["email"])["email"],
        source="logged",
        subject=data.subject,
        from_address=sender,
        to=[address for address in recipients if address],
        sent_at=data.sent_at,
        body=data.body,
        snippet=snippet_of(data.body),
        matched=True,
        created_by=principal.user_id,
        created_at=now,
    )
    link = EmailLink.of(email.summary(), principal.tenant_id, lead_id, lead.email, now)
    link.direction = data.direction
    try:
        mail.store_logged(email, link)
    except LeadGone:
        raise NotFound("Lead") from None
    except EmailIdTaken:
        raise Conflict("The email could not be given an id. Please retry.") from None
    return link, email


def unlink(principal: Principal, lead_id: int, email_id: int, mail: MailStore) -> None:
    """Remove the email from the lead (read the link, then one conditional transaction). A
    captured email stays stored (other leads may have it); a logged one belongs to its lead and
    goes with the link, in the same transaction."""
    try:
        mail.unlink(principal.tenant_id, lead_id, email_id)
    except ChildConflict:
        raise NotFound("Email") from None
