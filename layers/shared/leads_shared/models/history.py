"""A lead's history and timeline: the stored change, and the response shapes."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from leads_shared.models.activities import NoteOut, TaskOut
from leads_shared.models.common import Model
from leads_shared.models.emails import LinkedEmailOut

ActorType = Literal["user", "import", "form", "merge", "system"]
HistoryAction = Literal[
    "created",
    "imported",
    "updated",
    "status_changed",
    "assigned",
    "qualified",
    "disqualified",
    "deleted",
    "restored",
    "merged",
    "unmerged",
]
TimelineKind = Literal["change", "note", "task", "email", "form"]
TIMELINE_KINDS: tuple[TimelineKind, ...] = ("change", "note", "task", "email", "form")
# ``kind=`` of the timeline: kinds, comma-separated (the OpenAPI document declares the pattern).
_KIND = "(" + "|".join(TIMELINE_KINDS) + ")"
TIMELINE_KINDS_PATTERN = f"^ *{_KIND}( *, *{_KIND})* *$"
UNKNOWN_KIND = f"The selected kind is invalid. Allowed values: {', '.join(TIMELINE_KINDS)}."


def _known_kinds(value: Any) -> Any:
    """The pattern's 422 in words that list the kinds (pydantic's would say "invalid")."""
    if isinstance(value, str) and not re.fullmatch(TIMELINE_KINDS_PATTERN, value):
        raise PydanticCustomError("own_message", UNKNOWN_KIND)
    return value


# (The validator after the constraints runs first, and keeps the pattern in the JSON schema.)
TimelineKindsText = Annotated[
    str, StringConstraints(max_length=100, pattern=TIMELINE_KINDS_PATTERN), BeforeValidator(_known_kinds)
]


class Actor(Model):
    """Who made a change: a user (``id``, ``name``), an import job (``id``: the job's), a web form
    (``id``, ``name``: the form's), a merge, or the system."""

    type: ActorType
    id: int | str | None = Field(default=None, examples=[3])
    name: str | None = Field(default=None, examples=["Bob Smith"])


class MergeMark(Model):
    """The merge a ``merged`` or ``unmerged`` change belongs to."""

    merge_id: str
    survivor_id: int = Field(description="The lead the others were merged into.")
    merged_ids: list[int] = Field(description="The leads merged into it.")


class FieldChange(Model):
    field: str = Field(examples=["status"])
    old: Any = Field(default=None, examples=["new"])
    new: Any = Field(default=None, examples=["contacted"])


class HistoryEntry(Model):
    """One change of a lead, stored in its partition with the write that made it (TTL
    ``expires_at``: two years after ``at``). ``version``: the lead's version after the change."""

    tenant_id: str
    lead_id: int
    at: str
    version: int
    action: HistoryAction
    actor: Actor
    changes: list[FieldChange] = Field(default_factory=list)
    expires_at: int
    merge: MergeMark | None = None

    @property
    def fields(self) -> set[str]:
        return {change.field for change in self.changes}


class HistoryEntryOut(Model):
    at: str = Field(examples=["2026-01-15T09:30:00.000000Z"])
    action: HistoryAction
    actor: Actor
    changes: list[FieldChange] = Field(description="Each changed field, with its old and new value.")
    etag: str = Field(description="The lead's ETag after the change.", examples=['"3"'])
    merge: MergeMark | None = Field(
        default=None, description="A merge's change (`merged`, `unmerged`): which merge."
    )

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryEntryOut:
        values = entry.model_dump(include={"at", "action", "actor", "changes", "merge"})
        return cls.model_validate({**values, "etag": f'"{entry.version}"'})


NEXT_CURSOR = Field(
    default=None,
    description="Send it as `cursor` (with the same filter) for the next page; null on the last page. "
    "Opaque, signed, valid for an hour.",
)


class HistoryPage(Model):
    data: list[HistoryEntryOut]
    next_cursor: str | None = NEXT_CURSOR


class TimelineItem(Model):
    """One event of a lead's timeline: ``kind`` says which of ``change`` (a change of the lead,
    by a user, an import, a merge or the system), ``form`` (a web form created or filled it),
    ``note``, ``task`` (``event``: created or completed) or ``email`` (linked) holds it."""

    kind: TimelineKind
    event: str = Field(
        description="What happened: the change's action (created, updated, status_changed, ...), "
        "note_added, task_created, task_completed or email_linked.",
        examples=["status_changed"],
    )
    at: str = Field(examples=["2026-01-15T09:30:00.000000Z"])
    change: HistoryEntryOut | None = None
    note: NoteOut | None = None
    task: TaskOut | None = None
    email: LinkedEmailOut | None = None


class TimelinePage(Model):
    data: list[TimelineItem]
    next_cursor: str | None = NEXT_CURSOR
