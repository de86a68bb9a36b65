"""A lead's history: what each write of a lead records (``change``), and who made it (``Actor``).

Every write of a lead (create, PUT, qualify, disqualify, delete to the recycle bin, restore, an
import's create or update, a web form's create or fill) writes one ``HistoryEntry`` in the same
transaction as the lead, in the lead's partition: the history is never behind the lead, and a
write that fails records nothing. The entry holds who, when, the action and each changed field's
old and new value; DynamoDB's TTL removes it two years later (``HISTORY_DAYS``).

Not recorded: the directory's rename of an assignee shown on its leads (``directory_sync``: the
name only, by the system, a change of the user rather than of the lead) and the index backfill
(no value changes). A removal for good takes the lead's history with it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from leads_shared.clock import TIMESTAMP_FORMAT
from leads_shared.models.history import Actor, FieldChange, HistoryAction, HistoryEntry, MergeMark
from leads_shared.models.leads import Lead

if TYPE_CHECKING:
    from leads_shared.auth import Principal

HISTORY_DAYS = 2 * 365
# What a write keeps on a lead besides its values: never a change a user reads.
BOOKKEEPING = frozenset({"tenant_id", "id", "version", "created_at", "updated_at", "last_import"})
# The fields a change can name (``GET /leads/{id}/history?field=``), in the lead's order.
HISTORY_FIELDS = tuple(name for name in Lead.model_fields if name not in BOOKKEEPING)
if TYPE_CHECKING:
    HistoryField = str
else:  # ``field=`` of a lead's history: one of them (validation and the OpenAPI document's enum)
    HistoryField = Literal[HISTORY_FIELDS]


def user_actor(principal: Principal) -> Actor:
    """The calling user, as the request already knows them (no read)."""
    return Actor(type="user", id=principal.user_id, name=principal.name)


def import_actor(import_id: str) -> Actor:
    return Actor(type="import", id=import_id)


def form_actor(form_id: int, name: str) -> Actor:
    return Actor(type="form", id=form_id, name=name)


def _plain(value: Any) -> Any:
    return value.model_dump(exclude_none=True) if hasattr(value, "model_dump") else value


def diff(before: Lead | None, after: Lead | None) -> list[FieldChange]:
    """Each field whose value differs between ``before`` and ``after`` (None: no lead), in the
    lead's field order; a new lead's fields that have a value."""
    changes = []
    for name in HISTORY_FIELDS:
        old = _plain(getattr(before, name)) if before is not None else None
        new = _plain(getattr(after, name)) if after is not None else None
        if old != new:
            changes.append(FieldChange(field=name, old=old, new=new))
    return changes


def _action(before: Lead | None, changes: list[FieldChange]) -> HistoryAction:
    """What a write of ``changes`` is called when its caller names no action."""
    fields = {change.field for change in changes}
    if before is None:
        return "created"
    if "status" in fields:
        return "status_changed"
    if "assigned_to" in fields:
        return "assigned"
    return "updated"


def expiry(at: str) -> int:
    """When TTL removes an entry made at ``at`` (epoch seconds)."""
    moment = datetime.strptime(at, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    return int(moment.timestamp()) + HISTORY_DAYS * 24 * 3600


def change(
    before: Lead | None,
    after: Lead,
    actor: Actor,
    action: HistoryAction | None = None,
    at: str | None = None,
    merge: MergeMark | None = None,
) -> HistoryEntry:
    """The entry of a write of ``after`` over ``before`` (None: a new lead), at ``at`` (default:
    ``after.updated_at``, the time the write gave the lead); ``merge``: the merge it belongs to."""
    changes = diff(before, after)
    when = at or after.updated_at
    return HistoryEntry(
        tenant_id=after.tenant_id,
        lead_id=after.id,
        at=when,
        version=after.version,
        action=action or _action(before, changes),
        actor=actor,
        changes=changes,
        expires_at=expiry(when),
        merge=merge,
    )
