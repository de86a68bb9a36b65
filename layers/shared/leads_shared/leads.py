"""Lead rules: create, read, replace and delete, for one caller's tenant.

Every function takes the caller (``Principal``) and works only under its tenant: an id of
another tenant is simply not found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leads_shared.clock import utc_now
from leads_shared.data.lead_store import LeadStore, SequenceTaken
from leads_shared.directory import check_assignable
from leads_shared.errors import Conflict, DomainError, NotFound, PreconditionFailed
from leads_shared.lead_history import change, user_actor
from leads_shared.models.leads import Lead, LeadCreate, LeadUpdate
from leads_shared.observability import logger
from leads_shared.versioning import confirmed_write, matches_etag, next_version, without_lost_updates

if TYPE_CHECKING:
    from collections.abc import Mapping

    from leads_shared.auth import Principal
    from leads_shared.data.mail_store import MailStore
    from leads_shared.duplicate_check import DuplicateCheck
    from leads_shared.models.activities import Note
    from leads_shared.models.directory import User
    from leads_shared.models.history import Actor


def link_captured_emails(lead: Lead, mail: MailStore) -> None:
    """After a lead got an email (created with one, changed to another, or restored from the
    recycle bin): link the emails already captured for that address. One Query when there are
    none. The lead is written by then, so a failure here is logged, not answered: a client
    retrying the create would make a second lead (the next capture or email change links them)."""
    # Imported here: the capture module (mail parsing, drop-box addresses) is the email worker's;
    # a leads cold start whose first request writes no lead does not import it.
    from leads_shared.email_capture import link_captured

    try:
        linked = link_captured(lead, mail)
    except DomainError:
        logger.exception("linking captured emails to a lead failed", extra={"lead_id": lead.id})
        return
    if linked:
        logger.info("captured emails linked to lead", extra={"lead_id": lead.id, "email_ids": linked})


def create_lead(
    principal: Principal,
    data: LeadCreate,
    store: LeadStore,
    mail: MailStore,
    check: DuplicateCheck | None = None,
) -> Lead:
    """A lead in the caller's tenant (``insert_lead``), made by the caller; with ``check``, its
    duplicates are looked for before it is written (``DuplicateCheck.before_write``)."""
    return insert_lead(principal.tenant_id, data, store, mail, user_actor(principal), check=check)


def insert_lead(
    tenant_id: str,
    data: LeadCreate,
    store: LeadStore,
    mail: MailStore,
    actor: Actor,
    recorded: Mapping[str, Any] | None = None,
    *,
    check: DuplicateCheck | None = None,
) -> Lead:
    """Two DynamoDB requests: read the id sequence (with the assignee), then one transaction that
    takes the next id. If a concurrent create took that id first, reserve one with an atomic
    counter instead (two more requests, and it cannot be taken twice). With an email, one more:
    the Query for emails captured for it (and a write per email to link). ``recorded``: what the
    lead keeps besides the client's fields (a web form's attribution and consent). The
    transaction records the creation in the lead's history, by ``actor``."""
    stats, user = store.stats_with_user(tenant_id, data.assigned_to)
    check_assignable(user, data.assigned_to)
    now = utc_now()
    lead = Lead(
        tenant_id=tenant_id,
        id=stats.lead_seq + 1,
        **data.model_dump(),
        **(recorded or {}),
        assigned_to_name=user.name if user else None,
        created_at=now,
        updated_at=now,
        version=1,
    )
    if check is not None:
        check.before_write(lead, None, indexed=False)

    def write(previous_seq: int | None) -> None:
        if check is None:
            store.insert(lead, previous_seq, change(None, lead, actor))
        else:  # with reject, holding the lead's match keys against racing creates
            check.write_holding_keys(
                lead, lambda claims: store.insert(lead, previous_seq, change(None, lead, actor), claims)
            )

    try:
        write(stats.lead_seq)
    except SequenceTaken:
        lead.id = store.reserve_ids(tenant_id)
        try:
            write(None)
        except SequenceTaken:
            # A reserved id that exists already means the sequence is behind the data.
            raise Conflict("The lead could not be given an id. Please retry.") from None
    if lead.email:
        link_captured_emails(lead, mail)
    return lead


def get_lead(principal: Principal, lead_id: int, store: LeadStore) -> tuple[Lead, list[Note]]:
    """The lead with its notes, newest first: one Query."""
    lead, notes = store.get_with_notes(principal.tenant_id, lead_id)
    if lead is None:
        raise NotFound("Lead")
    return lead, notes


def apply_changes(current: Lead, changes: dict[str, Any], user: User | None, now: str) -> Lead:
    """``current`` with ``changes`` applied as PUT applies them (Conflict: a converted lead's status)."""
    updated = current.model_copy(update=changes)
    if "assigned_to" in changes:
        updated.assigned_to_name = user.name if user else None
    if updated.status != current.status:
        if current.contact_id is not None:
            raise Conflict(
                f"The lead was qualified into contact {current.contact_id}: its status cannot change."
            )
        if updated.status == "disqualified":
            updated.disqualified_at = now
        elif current.status == "disqualified":
            updated.disqualified_reason = updated.disqualified_at = None
    return updated


def current_or_404(lead: Lead | None, if_match: str | None) -> Lead:
    if lead is None:
        raise NotFound("Lead")
    if not matches_etag(if_match, lead):
        raise PreconditionFailed()
    return lead


def update_lead(
    principal: Principal,
    lead_id: int,
    data: LeadUpdate,
    store: LeadStore,
    mail: MailStore,
    if_match: str | None = None,
    check: DuplicateCheck | None = None,
) -> Lead:
    """At most two requests: read the lead (with the new assignee), then a conditional write
    (none when nothing changes). When the email changed, one more: the Query for emails
    captured for the new address (and a write per email to link). With ``check``, when a match
    key changed: a Query per key of the lead before the write (409 when it refuses them)."""
    changes = data.changes()
    wanted_user = changes.get("assigned_to")
    new_address: list[str] = []  # set by the attempt whose write changed the email

    def attempt() -> Lead:
        found, user = store.get_with_user(principal.tenant_id, lead_id, wanted_user)
        current = current_or_404(found, if_match)
        if wanted_user != current.assigned_to:  # a deactivated owner may stay the owner
            check_assignable(user, wanted_user)
        now = utc_now()
        updated = apply_changes(current, changes, user, now)
        if updated == current:
            return current
        updated = next_version(current, updated, now)
        if check is not None:
            check.before_write(updated, current)
        confirmed_write(
            lambda: store.replace(current, updated, change(current, updated, user_actor(principal))),
            updated,
            lambda: store.get(principal.tenant_id, lead_id),
        )
        if updated.email and updated.email.lower() != (current.email or "").lower():
            new_address.append(updated.email)
        return updated

    updated = without_lost_updates(attempt, if_match)
    if new_address:
        link_captured_emails(updated, mail)
    return updated
