"""The recycle bin: a lead's delete, the trash, a restore, and a removal for good.

- **Delete** (``DELETE /leads/{id}``): one transaction moves the lead item to its trashed item
  (``TrashStore.trash``): it leaves every list, search, count and match (its index entries go,
  its counters go down, as a delete always did), and every route that reads the lead or its
  children answers 404. Its notes, tasks, email links and history stay in its partition,
  untouched (the transaction adds its ``deleted`` entry to the history; a restore, ``restored``).
  Any user of the tenant may delete a lead (as before the recycle bin).
- **Trash** (``GET /leads/trash``): newest deletion first, by cursor. A user sees the leads they
  deleted; an admin sees the tenant's. A lead stays 30 days (``RESTORABLE_DAYS``); past that it
  is gone for the API at once, and DynamoDB's TTL removes its item (within days), after which
  the stream's worker removes its children (``trash_expiry``).
- **Restore** (``POST /leads/{id}/restore``): the one who deleted it, or an admin; anyone else
  gets the 404 of a lead that is not in their trash. One transaction puts the lead back as it
  was (its version one more, ``updated_at`` now), with its index entries and counts, on
  condition that it is still in the trash (its assignee's name as it is now). A live lead,
  another tenant's, an expired or purged one: 404. Duplicates: right before the write, the live
  leads and contacts sharing its email, phone or name and company are looked for
  (``duplicate_check``): told in the answer, or (``on_duplicate=reject``) a 409 naming them,
  nothing restored.
- **For good** (``DELETE /leads/{id}?permanent=true``, admins only): a live lead goes with every
  child at once (the delete as it was before the recycle bin: a transaction, then a sweep); a
  trashed one too (its children, then its trashed item).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from leads_shared import list_cursors
from leads_shared.clock import format_timestamp
from leads_shared.data.trash_store import NotInTrash
from leads_shared.errors import Forbidden, NotFound
from leads_shared.keys import TrashKeys
from leads_shared.lead_history import change, user_actor
from leads_shared.leads import current_or_404, link_captured_emails
from leads_shared.models.leads import TrashedLead
from leads_shared.versioning import next_version, without_lost_updates

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.config import Settings
    from leads_shared.data.directory_store import DirectoryStore
    from leads_shared.data.lead_store import LeadStore
    from leads_shared.data.mail_store import MailStore
    from leads_shared.data.trash_store import TrashStore
    from leads_shared.duplicate_check import DuplicateCheck
    from leads_shared.models.leads import Lead

RESTORABLE_DAYS = 30
NOT_IN_TRASH = "Deleted lead"  # its 404: "Deleted lead not found."


def delete_lead(
    principal: Principal,
    lead_id: int,
    leads: LeadStore,
    trash: TrashStore,
    if_match: str | None = None,
    *,
    permanent: bool = False,
) -> None:
    """Into the trash, or (``permanent``, admins only: 403 otherwise) removed for good."""
    if permanent:
        if not principal.is_admin:
            raise Forbidden()
        remove_for_good(principal, lead_id, leads, trash, if_match)
    else:
        trash_lead(principal, lead_id, leads, trash, if_match)


def trash_lead(
    principal: Principal, lead_id: int, leads: LeadStore, trash: TrashStore, if_match: str | None = None
) -> None:
    """Two requests: read the lead, then the transaction that trashes it if it did not change."""

    def attempt() -> None:
        current = current_or_404(leads.get(principal.tenant_id, lead_id), if_match)
        now = datetime.now(UTC)
        trashed = TrashedLead(
            lead=current,
            deleted_at=format_timestamp(now),
            deleted_by=principal.user_id,
            expires_at=int(now.timestamp()) + RESTORABLE_DAYS * 24 * 3600,
        )
        trash.trash(
            current, trashed, change(current, current, user_actor(principal), "deleted", trashed.deleted_at)
        )

    without_lost_updates(attempt, if_match)


def remove_for_good(
    principal: Principal, lead_id: int, leads: LeadStore, trash: TrashStore, if_match: str | None = None
) -> None:
    """Read the lead's partition (one Query). A live lead: deleted with its counts and its
    children in one transaction if it did not change, then its partition swept of any child
    beyond what a transaction holds. A trashed lead: its children, then its trashed item. A lead
    that is gone but left children (a removal that died half-way) is a 404, and the retry
    removes them."""

    def attempt() -> None:
        found = leads.get_with_children(principal.tenant_id, lead_id)
        if found.lead is None and found.merged:
            raise NotFound("Lead")  # merged into another: its undo needs what is left of it
        if found.lead is None and found.trashed:
            trash.purge(principal.tenant_id, lead_id, found.children)
            return
        if found.lead is None and found.children:
            leads.remove_leftovers(found.children)
        current = current_or_404(found.lead, if_match)
        leads.delete(current, found.children)

    without_lost_updates(attempt, if_match)


@dataclass(frozen=True)
class TrashListing:
    leads: list[TrashedLead]
    next_cursor: str | None


def list_trash(
    principal: Principal, limit: int, cursor: str | None, trash: TrashStore, settings: Settings
) -> TrashListing:
    """A page of the caller's trash (an admin's: the tenant's), newest deletion first: one Query
    of its index partition, from the cursor's position, reading one lead ahead."""
    tenant_id = principal.tenant_id
    deleter = None if principal.is_admin else principal.user_id
    bound = list_cursors.binding(tenant_id, principal.user_id, {"list": "trash", "deleted_by": deleter})
    found, next_cursor = list_cursors.keyed_page(
        cursor,
        bound,
        settings,
        lambda at: trash.page(
            tenant_id, deleter, count=limit, after=(at.sort_key, at.lead_id) if at else None
        ),
        lambda last: (TrashKeys.sort_key(last.deleted_at, last.lead.id), last.lead.id),
    )
    now = time.time()
    return TrashListing([trashed for trashed in found if not trashed.expired(now)], next_cursor)


def restorable_until(trashed: TrashedLead) -> str:
    return format_timestamp(datetime.fromtimestamp(trashed.expires_at, UTC))


def restore_lead(
    principal: Principal,
    lead_id: int,
    trash: TrashStore,
    directory: DirectoryStore,
    mail: MailStore,
    check: DuplicateCheck | None = None,
) -> Lead:
    """Two requests: read the trashed lead, then the transaction that puts it back (if it is
    still in the trash). With an assignee, one more before the write: the assignee's name now
    (a rename while the lead was in the trash reached no lead of the trash). With an email, one
    more after it: emails captured for its address while it was in the trash (when nothing
    could link them to it) are linked now, as for a new lead. With ``check``, before the write:
    a Query per match key of the lead (the live leads and contacts it would duplicate; 409 when
    it refuses them)."""
    trashed = trash.trashed(principal.tenant_id, lead_id)
    if (
        trashed is None
        or trashed.expired(time.time())
        or not (principal.is_admin or trashed.deleted_by == principal.user_id)
    ):
        raise NotFound(NOT_IN_TRASH)
    lead = next_version(trashed.lead, trashed.lead)
    if lead.assigned_to is not None:
        assignee = directory.user(principal.tenant_id, lead.assigned_to)
        if assignee is not None:  # a user no longer in the directory: the name as it was
            lead.assigned_to_name = assignee.name
    if check is not None:
        check.before_write(lead, None)
    try:
        trash.restore(trashed, lead, change(trashed.lead, lead, user_actor(principal), "restored"))
    except NotInTrash:
        raise NotFound(NOT_IN_TRASH) from None
    if lead.email:
        link_captured_emails(lead, mail)
    return lead
