"""A lead's timeline (``GET /leads/{id}/timeline``) and one field's history
(``GET /leads/{id}/history?field=``): newest first, a page at a time, by signed cursor.

Both read only the lead's own partition, in one Query (its pages): the history route from
``CHANGE#`` to ``LEAD``, the timeline the whole partition (changes, notes, tasks, email links;
the lead's index entries come with them). Events have no common sort key in the table, so the
page is cut in memory from everything read: each event has a position (its time, then what it
is and its id), the cursor holds the last one listed, and the next page starts right after it,
so no event repeats or is skipped while others are added. The cost grows with the lead's
children and history (docs/data-model.md).

A lead that is not live (unknown, another tenant's, in the recycle bin) is a 404, as for
``GET /leads/{id}``; the same callers may read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leads_shared import list_cursors
from leads_shared.errors import NotFound, ValidationFailed
from leads_shared.keys import padded
from leads_shared.lead_history import HISTORY_FIELDS
from leads_shared.models.activities import NoteOut, TaskOut
from leads_shared.models.emails import LinkedEmailOut
from leads_shared.models.history import TIMELINE_KINDS, UNKNOWN_KIND, HistoryEntryOut, TimelineItem

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from leads_shared.auth import Principal
    from leads_shared.config import Settings
    from leads_shared.data.lead_store import LeadActivity, LeadStore
    from leads_shared.models.history import HistoryEntry, TimelineKind


@dataclass(frozen=True)
class Page[T]:
    data: list[T]
    next_cursor: str | None


def allowed_fields_message() -> str:
    return f"The selected field is invalid. Allowed values: {', '.join(HISTORY_FIELDS)}."


def parse_kinds(text: str | None) -> tuple[TimelineKind, ...]:
    """``kind=note,task`` as kinds (none given: every kind); an unknown one is a 422."""
    if text is None or not text.strip():
        return TIMELINE_KINDS
    asked = [part.strip() for part in text.split(",") if part.strip()]
    if any(kind not in TIMELINE_KINDS for kind in asked):
        raise ValidationFailed({"kind": [UNKNOWN_KIND]})
    return tuple(kind for kind in TIMELINE_KINDS if kind in asked)


def _position(at: str, what: str, number: int) -> str:
    """Where an event sorts: its time, then what it is and its id (unique in the partition)."""
    return f"{at}#{what}#{padded(number)}"


def _change_item(entry: HistoryEntry) -> tuple[str, TimelineItem]:
    kind: TimelineKind = "form" if entry.actor.type == "form" else "change"
    out = HistoryEntryOut.of(entry)
    return _position(entry.at, "change", entry.version), TimelineItem(
        kind=kind, event=entry.action, at=entry.at, change=out
    )


def _events(activity: LeadActivity) -> Iterable[tuple[str, TimelineItem]]:
    for entry in activity.history:
        yield _change_item(entry)
    for note in activity.notes:
        yield (
            _position(note.created_at, "note", note.id),
            TimelineItem(kind="note", event="note_added", at=note.created_at, note=NoteOut.of(note)),
        )
    for task in activity.tasks:
        out = TaskOut.of(task)
        yield (
            _position(task.created_at, "task", task.id),
            TimelineItem(kind="task", event="task_created", at=task.created_at, task=out),
        )
        if task.completed and task.completed_at:
            yield (
                _position(task.completed_at, "taskdone", task.id),
                TimelineItem(kind="task", event="task_completed", at=task.completed_at, task=out),
            )
    for link in activity.links:
        yield (
            _position(link.sent_at, "email", link.id),
            TimelineItem(kind="email", event="email_linked", at=link.sent_at, email=LinkedEmailOut.of(link)),
        )


def _page[T](
    principal: Principal,
    lead_id: int,
    query: dict[str, Any],
    events: Sequence[tuple[str, T]],
    limit: int,
    cursor: str | None,
    settings: Settings,
) -> Page[T]:
    """A page of ``events`` (each with its position), newest first, after the cursor's."""
    bound = list_cursors.binding(principal.tenant_id, principal.user_id, {"lead": lead_id, **query})
    ordered = sorted(events, key=lambda event: event[0], reverse=True)
    listed = 0
    if cursor:
        after = list_cursors.read(cursor, bound, settings)
        ordered = [event for event in ordered if event[0] < after.sort_key]
        listed = after.listed
    page = ordered[:limit]
    next_cursor = None
    if len(ordered) > limit:
        position = list_cursors.ListPosition("sort", page[-1][0], lead_id, listed + len(page))
        next_cursor = list_cursors.issue(position, bound, settings)
    return Page([item for _, item in page], next_cursor)


def timeline(
    principal: Principal,
    lead_id: int,
    kinds: Sequence[TimelineKind],
    limit: int,
    cursor: str | None,
    store: LeadStore,
    settings: Settings,
) -> Page[TimelineItem]:
    """The lead's events of ``kinds``, newest first: one Query of its partition."""
    activity = store.activity(principal.tenant_id, lead_id)
    if activity.lead is None:
        raise NotFound("Lead")
    events = [event for event in _events(activity) if event[1].kind in kinds]
    return _page(principal, lead_id, {"timeline": sorted(kinds)}, events, limit, cursor, settings)


def field_history(
    principal: Principal,
    lead_id: int,
    field: str | None,
    limit: int,
    cursor: str | None,
    store: LeadStore,
    settings: Settings,
) -> Page[HistoryEntryOut]:
    """The lead's changes (those of ``field`` only, when given), newest first: one Query from
    ``CHANGE#`` to ``LEAD``. An unknown field is a 422 listing the fields."""
    if field is not None and field not in HISTORY_FIELDS:
        raise ValidationFailed({"field": [allowed_fields_message()]})
    lead, history = store.history(principal.tenant_id, lead_id)
    if lead is None:
        raise NotFound("Lead")
    events = [
        (_position(entry.at, "change", entry.version), HistoryEntryOut.of(entry))
        for entry in history
        if field is None or field in entry.fields
    ]
    return _page(principal, lead_id, {"history": field}, events, limit, cursor, settings)
