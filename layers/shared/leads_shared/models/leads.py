"""Lead models: request bodies, the domain record, and the response shapes."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from leads_shared.models.activities import Note, NoteOut
from leads_shared.models.common import (
    NOT_BLANK,
    Model,
    OptionalEmail,
    OptionalLongText,
    OptionalPhone,
    OptionalText255,
    OptionalText1000,
    RequiredName,
    UserId,
)

if TYPE_CHECKING:
    from pydantic.config import JsonDict

LeadStatus = Literal["new", "contacted", "qualified", "disqualified"]
SortBy = Literal["name", "email", "company_name", "status", "source", "assigned_to_name", "created_at"]
Scope = Literal["me", "team", "company"]
SortDir = Literal["ASC", "DESC"]
# What a create, PUT or restore does when the lead has likely duplicates (``duplicate_check``).
OnDuplicate = Literal["allow", "reject"]
# A required search (match-company, match-contact): blank is a 422, as in the contract.
RequiredSearch = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=NOT_BLANK)
]
# A UTC day in a query, YYYY-MM-DD only (pydantic alone would also read `0` as 1970-01-01).
_ISO_DAY = re.compile(r"\s*\d{4}-\d{2}-\d{2}\s*")


def _iso_day(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise PydanticCustomError("date_parsing", "Input should be a valid date in the format YYYY-MM-DD")
    return value.strip() if isinstance(value, str) else value


IsoDay = Annotated[date, BeforeValidator(_iso_day)]
# Highest page number accepted (deeper offsets belong to an export, not to paging).
MAX_PAGE = 10_000
MAX_PER_PAGE = 100


def sort_direction(value: Any) -> Any:
    """``sort_dir`` in any case; blank means the default, ``ASC``."""
    if isinstance(value, str):
        return value.strip().upper() or "ASC"
    return value


# What Swagger UI fills a new lead's body with (the README's first lead).
LEAD_EXAMPLE: JsonDict = {
    "first_name": "Jane",
    "last_name": "Roe",
    "email": "jane@roe.com",
    "phone": "+1 555 0100",
    "company": "Roe Ltd",
    "job_title": "CTO",
    "source": "Website",
    "status": "new",
    "assigned_to": 2,
}


class LeadFields(Model):
    """Fields a client may write. Anything else in the body (``id``, ``created_at``,
    ``tenant_id``, key attributes, ...) is ignored, never stored. Strings are trimmed, and a
    blank string means ``null``."""

    model_config = ConfigDict(extra="ignore")

    first_name: RequiredName
    last_name: RequiredName
    email: OptionalEmail = None
    phone: OptionalPhone = None
    company: OptionalText255 = None
    job_title: OptionalText255 = None
    source: OptionalText255 = None
    notes: OptionalLongText = None
    tags: OptionalText1000 = None
    assigned_to: UserId = Field(default=None, description="A user id of the caller's tenant.")


class LeadCreate(LeadFields):
    model_config = ConfigDict(json_schema_extra={"examples": [LEAD_EXAMPLE]})

    status: LeadStatus = "new"


class LeadUpdate(LeadFields):
    """``PUT /leads/{id}``: ``first_name`` and ``last_name`` are required as in the contract;
    any other field that is left out keeps its value, and ``null`` clears it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"first_name": "Jane", "last_name": "Roe", "status": "contacted"}]}
    )

    # Leaving `status` out keeps it; `null` is not a status (hidden from the schema).
    status: LeadStatus | SkipJsonSchema[None] = None

    @field_validator("status", mode="before")
    @classmethod
    def _status_not_null(cls, value: Any) -> Any:
        # Only runs when the client sent the field: `status: null` is not a status.
        if value is None:
            raise PydanticCustomError("literal_error", "The selected status is invalid.")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, with their validated values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class Attribution(Model):
    """Where a lead that came through a web form came from (``leads_shared.form_capture``)."""

    form_id: int
    submission_id: str
    page_url: str | None = None
    referrer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    ip: str | None = None
    user_agent: str | None = None


class Consent(Model):
    """Consent given on a web form: to which text (and its version), when, from which IP."""

    form_id: int
    text: str
    text_version: int
    given_at: str
    ip: str | None = None


class Lead(Model):
    """The domain record of a lead (what the data layer stores, without keys)."""

    tenant_id: str
    id: int
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    job_title: str | None = None
    source: str | None = None
    status: LeadStatus = "new"
    notes: str | None = None
    tags: str | None = None
    assigned_to: int | None = None
    assigned_to_name: str | None = None
    # What qualifying converted the lead into, and when (kept on the lead for good).
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None
    qualified_at: str | None = None
    disqualified_reason: str | None = None
    disqualified_at: str | None = None
    # The import row that last wrote the lead ("<import id>#<row>"): a retried import finds its
    # own update already applied.
    last_import: str | None = None
    # A lead made by a web form: where its submission came from, and the consent it gave.
    attribution: Attribution | None = None
    consent: Consent | None = None
    created_at: str
    updated_at: str
    version: int = 1

    @property
    def is_closed(self) -> bool:
        """Qualified or disqualified: no further conversion."""
        return self.status in ("qualified", "disqualified")

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class LeadOut(Model):
    """A lead as the API returns it: the contract's fields plus ``assigned_to_name``."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    company: str | None
    job_title: str | None
    source: str | None
    status: LeadStatus
    notes: str | None
    tags: str | None
    assigned_to: int | None
    assigned_to_name: str | None
    contact_id: int | None = Field(description="The contact the lead was qualified into.")
    company_id: int | None = Field(description="The company the lead was qualified into (or linked to).")
    deal_id: int | None = Field(description="The deal created when the lead was qualified.")
    qualified_at: str | None
    disqualified_reason: str | None
    disqualified_at: str | None
    attribution: Attribution | None = Field(
        default=None, description="A lead made by a web form: its page, referrer, UTM tags, IP, user agent."
    )
    consent: Consent | None = Field(default=None, description="Consent given on a web form, when it had one.")
    created_at: str = Field(examples=["2026-01-15T09:30:00.000000Z"])
    updated_at: str = Field(examples=["2026-01-15T09:30:00.000000Z"])

    @classmethod
    def of(cls, lead: Lead) -> LeadOut:
        return cls.model_validate(lead.model_dump(exclude={"tenant_id", "version"}))


class LeadDetail(LeadOut):
    """``GET /leads/{id}``: the lead with its notes, newest first (``notes`` stays the lead's own
    text field)."""

    lead_notes: list[NoteOut]

    @classmethod
    def with_notes(cls, lead: Lead, notes: list[Note]) -> LeadDetail:
        return cls.model_validate(
            {**LeadOut.of(lead).model_dump(), "lead_notes": [NoteOut.of(note) for note in notes]}
        )


class LeadPage(Model):
    data: list[LeadOut]
    current_page: int
    last_page: int
    per_page: int
    total: int
    next_cursor: str | None = Field(
        default=None,
        description="Send it as `cursor` (with the same filters, scope and sort) for the next page; "
        "null on the last page. Opaque, signed, valid for an hour.",
    )
    total_capped: bool = Field(
        default=False,
        description="True when `total` is a lower bound: a search matched more than 10,000 leads "
        "(the page then lists the first 10,000 found, in the order asked), or a filter with no "
        "counter (a source, dates, combined filters) was counted to 10,000 and stopped. Narrow "
        "the query for an exact count.",
    )


class TrashedLead(Model):
    """A deleted lead in the recycle bin: the lead as it was, who deleted it and when, and when
    DynamoDB's TTL removes it (``expires_at``, epoch seconds)."""

    lead: Lead
    deleted_at: str
    deleted_by: int
    expires_at: int

    def expired(self, now: float) -> bool:
        """Past its time (TTL removes an item up to a few days late: it is gone for the API)."""
        return self.expires_at <= now


class TrashedLeadOut(LeadOut):
    """A lead of ``GET /leads/trash``: the lead as it was deleted, and its deletion."""

    deleted_at: str = Field(examples=["2026-01-20T16:05:00.000000Z"])
    deleted_by: int = Field(description="The user who deleted it.")
    restorable_until: str = Field(
        description="After this time the lead and its notes, tasks and email links are removed for good.",
        examples=["2026-02-19T16:05:00.000000Z"],
    )

    @classmethod
    def of_trashed(cls, trashed: TrashedLead, restorable_until: str) -> TrashedLeadOut:
        return cls.model_validate(
            {
                **LeadOut.of(trashed.lead).model_dump(),
                "deleted_at": trashed.deleted_at,
                "deleted_by": trashed.deleted_by,
                "restorable_until": restorable_until,
            }
        )


class TrashPage(Model):
    data: list[TrashedLeadOut]
    next_cursor: str | None = Field(
        default=None,
        description="Send it as `cursor` for the next page; null on the last page. Opaque, signed, "
        "valid for an hour.",
    )


DuplicateReason = Literal["email", "phone", "name_company"]


class Duplicate(Model):
    """A lead or contact of the tenant that looks like the same person as the lead asked about."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    company: str | None = Field(description="The lead's company text (leads only).")
    status: LeadStatus | None = Field(description="The lead's status (leads only).")
    type: Literal["lead", "contact"]
    reasons: list[DuplicateReason] = Field(
        description="What is the same: `email` (ignoring case), `phone` (the same digits, country "
        "code as typed), `name_company` (first and last name and company, ignoring case, accents, "
        "punctuation and the company's legal suffix)."
    )
    score: int = Field(ge=0, le=100, description="email 60, phone 30, name and company 25; at most 100.")


class DuplicatePage(Model):
    data: list[Duplicate]
    total: int


class DuplicateRef(Model):
    """A likely duplicate as a write names it (``on_duplicate=reject``'s 409): who, and why."""

    id: int
    type: Literal["lead", "contact"]
    reasons: list[DuplicateReason] = Field(description="What is the same (as `GET /leads/{id}/duplicates`).")
    score: int = Field(ge=0, le=100, description="email 60, phone 30, name and company 25; at most 100.")


class DuplicateConflictBody(Model):
    """A 409 in the API's envelope; a write refused by ``on_duplicate=reject`` names the duplicates."""

    message: str = Field(examples=["The lead has likely duplicates (1): nothing was written."])
    duplicates: list[DuplicateRef] | None = Field(
        default=None,
        description="With `on_duplicate=reject`: the leads and contacts that made the write refused, "
        "best first (at most 50).",
    )
