"""Notes and tasks of a lead: request bodies, stored records and response shapes."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from leads_shared.models.common import (
    BLANK_SCHEMA,
    NOT_BLANK,
    Model,
    OptionalLongText,
    PlainText,
    RecordId,
    RequiredName,
    UserId,
    blank_to_none,
)

if TYPE_CHECKING:
    from pydantic.config import JsonDict

Priority = Literal["low", "medium", "high"]
NoteContent = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000, pattern=NOT_BLANK),
    PlainText(long=True),
]
_DUE_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_DUE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# ------------------------------------------------------------------ notes
class NoteCreate(Model):
    model_config = ConfigDict(
        extra="ignore", json_schema_extra={"examples": [{"content": "Called: wants a demo with their CTO."}]}
    )

    content: NoteContent = Field(description="1 to 10,000 characters (trimmed).")


class Note(Model):
    tenant_id: str
    id: int
    lead_id: int
    content: str
    user_id: int
    user_name: str | None = None
    created_at: str
    updated_at: str


class NoteOut(Model):
    id: int
    lead_id: int
    content: str
    user_id: int
    user_name: str | None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, note: Note) -> NoteOut:
        return cls.model_validate(note.model_dump(exclude={"tenant_id"}))


class NoteList(Model):
    data: list[NoteOut]


# ------------------------------------------------------------------ tasks
def _due_date(value: Any) -> Any:
    value = blank_to_none(value)
    if isinstance(value, str):
        try:
            if not _DUE_DATE.fullmatch(value.strip()):
                raise ValueError(value)
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise PydanticCustomError(
                "own_message", "The due date field must match the format Y-m-d."
            ) from None
    return value


def _due_time(value: Any) -> Any:
    value = blank_to_none(value)
    if isinstance(value, str) and not _DUE_TIME.fullmatch(value.strip()):
        raise PydanticCustomError("own_message", "The due time field must match the format H:i.")
    return value.strip() if isinstance(value, str) else value


DueDate = Annotated[
    str | None,
    BeforeValidator(_due_date),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date"}, BLANK_SCHEMA, {"type": "null"}]}),
    Field(examples=["2026-01-15"]),
]
DueTime = Annotated[
    str | None,
    BeforeValidator(_due_time),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": rf"^\s*{_DUE_TIME.pattern}\s*$"},
                BLANK_SCHEMA,
                {"type": "null"},
            ]
        }
    ),
    Field(examples=["14:30"]),
]


class TaskFields(Model):
    """Fields a client may write; anything else is ignored. Blank strings mean ``null``."""

    model_config = ConfigDict(extra="ignore")

    title: RequiredName
    description: OptionalLongText = None
    due_date: DueDate = Field(default=None, description="YYYY-MM-DD.")
    due_time: DueTime = Field(default=None, description="HH:MM (24 h).")
    priority: Priority = "medium"
    assigned_to: UserId = Field(default=None, description="A user id of the caller's tenant.")
    contact_id: RecordId = Field(default=None, description="A contact of the caller's tenant.")
    company_id: RecordId = Field(default=None, description="A company of the caller's tenant.")
    deal_id: RecordId = Field(default=None, description="A deal of the caller's tenant.")
    completed: StrictBool = False

    @field_validator("priority", "completed", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: Any) -> Any:
        # Only runs when the client sent the field: null is neither a priority nor a state.
        if value is None:
            kind = "literal_error" if info.field_name == "priority" else "bool_type"
            raise PydanticCustomError(kind, "Input should not be null")
        return value


TASK_EXAMPLE: JsonDict = {
    "title": "Send the proposal",
    "description": "Pricing for 50 seats, with the onboarding package.",
    "due_date": "2026-02-03",
    "due_time": "10:00",
    "priority": "high",
    "assigned_to": 2,
}


class TaskCreate(TaskFields):
    model_config = ConfigDict(json_schema_extra={"examples": [TASK_EXAMPLE]})


class TaskUpdate(TaskFields):
    """``PUT /leads/{id}/tasks/{taskId}``: ``title`` is required as in the contract; any other
    field left out keeps its value, and ``null`` clears it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": "Send the proposal", "completed": True}]}
    )

    priority: Priority | SkipJsonSchema[None] = None  # type: ignore[assignment]
    completed: StrictBool | SkipJsonSchema[None] = None  # type: ignore[assignment]

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


REFERENCE_FIELDS = ("contact_id", "company_id", "deal_id")


class Task(Model):
    tenant_id: str
    id: int
    lead_id: int
    title: str
    description: str | None = None
    due_date: str | None = None
    due_time: str | None = None
    priority: Priority = "medium"
    assigned_to: int | None = None
    assigned_to_name: str | None = None
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None
    completed: bool = False
    completed_at: str | None = None
    created_by: int
    created_at: str
    updated_at: str
    version: int = 1

    def order_key(self) -> tuple[bool, str, str, int]:
        """Due first (undated last), then by time (untimed first within a day), then id."""
        return (self.due_date is None, self.due_date or "", self.due_time or "", self.id)


class TaskOut(Model):
    id: int
    lead_id: int
    title: str
    description: str | None
    due_date: str | None
    due_time: str | None
    priority: Priority
    assigned_to: int | None
    assigned_to_name: str | None
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    completed: bool
    completed_at: str | None
    created_by: int
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        return cls.model_validate(task.model_dump(exclude={"tenant_id", "version"}))


class TaskList(Model):
    data: list[TaskOut]
