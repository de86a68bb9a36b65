"""A merge of leads: the request, the stored merge record, and the answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool

from leads_shared.models.common import MAX_ID, Model
from leads_shared.models.history import Actor
from leads_shared.models.leads import Lead, LeadOut

if TYPE_CHECKING:
    from pydantic.config import JsonDict

# The lead fields a merge chooses (each from one of the leads): a client's fields. The status
# and what qualifying wrote stay the survivor's.
MERGE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "source",
    "notes",
    "tags",
    "assigned_to",
)
MAX_MERGED = 3  # other leads merged into one at a time (as Salesforce)
MergeStatus = Literal["moving", "done", "undoing", "undone"]
CHILD_KINDS = ("notes", "tasks", "emails")
OtherLeadId = Annotated[int, Field(ge=1, le=MAX_ID)]

MERGE_EXAMPLE: JsonDict = {"merge_ids": [7, 9], "fields": {"phone": 9, "company": 7}, "dry_run": False}


class MergeRequest(Model):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [MERGE_EXAMPLE]})

    merge_ids: list[OtherLeadId] = Field(
        min_length=1,
        max_length=MAX_MERGED,
        json_schema_extra={"uniqueItems": True},
        description="1 to 3 other leads of the tenant, merged into this one (the survivor).",
    )
    fields: dict[str, OtherLeadId] = Field(
        default_factory=dict,
        json_schema_extra={"propertyNames": {"enum": list(MERGE_FIELDS)}},
        description="For a field, the lead (the survivor or one of `merge_ids`) whose value the "
        "survivor takes. Any other field: the survivor's own value, or when it has none the first "
        "value among `merge_ids`, in their order.",
    )
    dry_run: StrictBool = Field(default=False, description="`true`: answer what would happen, write nothing.")


class MergeRecord(Model):
    """What a merge wrote and how far it got (stored in the survivor's partition).

    ``values``: the fields the survivor takes (from ``chosen``: the lead each came from);
    ``survivor_before`` and ``merged``: the leads as they were when the merge claimed them (an
    undo puts the survivor's changed fields back from it); ``moved``: the children that moved,
    by kind."""

    tenant_id: str
    merge_id: str
    survivor_id: int
    merged_ids: list[int]
    status: MergeStatus
    values: dict[str, Any]
    chosen: dict[str, int]
    survivor_before: Lead
    merged: list[Lead]
    moved: dict[str, int]
    actor: Actor
    merged_at: str
    undo_until: str
    expires_at: int  # TTL: two years after the merge, as the history entries it made
    undone_at: str | None = None
    undone_by: Actor | None = None
    # When an erasure on request blanked an address out of this record's copies: the merge can
    # no longer be undone (it would bring back what was erased, or a lead that was).
    erased_at: str | None = None
    kept: list[str] = Field(default_factory=list)


class MovedCounts(Model):
    notes: int = Field(description="Notes moved to the survivor.")
    tasks: int = Field(description="Tasks moved to the survivor.")
    emails: int = Field(description="Email links moved to the survivor (an email linked to both stays once).")


class MergeResult(Model):
    merge_id: str | None = Field(
        description="The merge's id (null for a dry run): what an undo names.", examples=["7-3"]
    )
    dry_run: bool
    status: MergeStatus | None = Field(description="`done` (null for a dry run).")
    survivor: LeadOut = Field(description="The surviving lead, as the merge leaves it.")
    merged_ids: list[int] = Field(description="The leads merged into it (now 404 with `merged_into`).")
    chosen: dict[str, int] = Field(
        description="Each field the survivor took from another lead: that lead's id."
    )
    moved: MovedCounts
    undo_until: str | None = Field(description="The undo is possible until then (30 days).")


class UndoResult(Model):
    merge_id: str
    status: MergeStatus = Field(description="`undone`.")
    survivor: LeadOut = Field(description="The survivor with its values from before the merge.")
    restored_ids: list[int] = Field(
        description="The merged leads, live again with their notes, tasks and emails."
    )
    kept: list[str] = Field(
        description="Fields of the survivor changed since the merge: their newer value was kept."
    )


class MergeSummary(Model):
    merge_id: str
    status: MergeStatus
    merged_ids: list[int]
    chosen: dict[str, int]
    moved: MovedCounts
    actor: Actor
    merged_at: str
    undo_until: str
    undone_at: str | None
    erased_at: str | None = Field(
        default=None,
        description="When an erasure on request took an address out of what this merge kept: "
        "it can no longer be undone (409).",
    )

    @classmethod
    def of(cls, record: MergeRecord) -> MergeSummary:
        return cls.model_validate(
            record.model_dump(
                include={"merge_id", "status", "merged_ids", "chosen", "moved", "actor", "merged_at"}
                | {"undo_until", "undone_at", "erased_at"}
            )
        )


class MergeList(Model):
    data: list[MergeSummary] = Field(description="The lead's merges (as the survivor), newest first.")
