"""Emails linked to leads: the request body of logging one by hand, the stored records (the email
itself and its link to a lead), and the response shapes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from leads_shared.clock import format_timestamp
from leads_shared.models.common import (
    BLANK_SCHEMA,
    NOT_BLANK,
    BlankMeans,
    EmailFormat,
    Model,
    blank_to_none,
    is_email,
)

Direction = Literal["inbound", "outbound"]
Source = Literal["captured", "logged"]
MAX_SUBJECT_CHARS = 998  # the longest header line RFC 5322 allows
MAX_LOGGED_BODY_CHARS = 100_000
MAX_RECIPIENTS = 50


# ------------------------------------------------------------------ request
def _timestamp(value: Any) -> Any:
    """An ISO 8601 date-time (with a zone, or UTC when it has none) in the API's format."""
    if isinstance(value, str) and not value.strip():  # required: blank is no value
        raise PydanticCustomError("missing", "Field required")
    if value is None:
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("own_message", "The sent at field must be a valid date and time.")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        return format_timestamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved across a zone
        raise PydanticCustomError(
            "own_message", "The sent at field must be a valid date and time (ISO 8601)."
        ) from None


def _address_list(value: Any) -> Any:
    """``to`` as one address or a list of them; blank means none."""
    value = blank_to_none(value)
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


Subject = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SUBJECT_CHARS, pattern=NOT_BLANK),
]
Body = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_LOGGED_BODY_CHARS, pattern=NOT_BLANK
    ),
]
SentAt = Annotated[
    str,
    BeforeValidator(_timestamp),
    WithJsonSchema({"type": "string", "format": "date-time"}),
    Field(examples=["2026-01-15T09:30:00Z"]),
]


def _checked_address(label: str) -> BeforeValidator:
    """A valid address, lower-cased (as captured addresses are); blank means none."""

    def check(value: Any) -> Any:
        value = blank_to_none(value)
        if value is None or not isinstance(value, str):
            return value
        if not is_email(value):
            raise PydanticCustomError("own_message", f"The {label} must be a valid email address.")
        return value.strip().lower()

    return BeforeValidator(check)


Address = Annotated[str, StringConstraints(max_length=254), EmailFormat()]
FromAddress = Annotated[Address | None, BlankMeans(None), _checked_address("from field")]
ADDRESS_SCHEMA = {"anyOf": [{"type": "string", "format": "email", "maxLength": 254}, BLANK_SCHEMA]}
Recipients = Annotated[
    list[Annotated[Address | None, BlankMeans(None), _checked_address("to field")]],
    # One address, a list of them (blank or null items are skipped), or nothing (null, blank).
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "array",
                    "maxItems": MAX_RECIPIENTS,
                    "items": {"anyOf": [*ADDRESS_SCHEMA["anyOf"], {"type": "null"}]},
                },
                *ADDRESS_SCHEMA["anyOf"],
                {"type": "null"},
            ]
        }
    ),
    BeforeValidator(_address_list),
    AfterValidator(lambda addresses: [a for a in addresses if a]),
]


class LinkedEmailCreate(Model):
    """``POST /leads/{id}/linked-emails``: an email logged by hand. Without ``from``/``to``, the
    lead's address stands on its side (``from`` for inbound, ``to`` for outbound) and the
    caller's on the other when the token carries one."""

    model_config = ConfigDict(
        extra="ignore",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "subject": "Call recap",
                    "body": "Trial starts Monday.",
                    "direction": "outbound",
                    "sent_at": "2026-01-22T15:30:00Z",
                }
            ]
        },
    )

    subject: Subject = Field(description=f"1 to {MAX_SUBJECT_CHARS} characters.")
    body: Body = Field(description=f"The text of the email, 1 to {MAX_LOGGED_BODY_CHARS:,} characters.")
    direction: Direction = Field(description="inbound: the lead sent it; outbound: it was sent to the lead.")
    sent_at: SentAt = Field(description="ISO 8601 date-time; without a zone it is UTC.")
    from_: FromAddress = Field(default=None, alias="from", description="Sender address.")
    to: Recipients = Field(
        default_factory=list,
        max_length=MAX_RECIPIENTS,
        description=f"Recipient addresses (one, or a list of up to {MAX_RECIPIENTS}).",
    )


# ------------------------------------------------------------------ stored records
class AttachmentInfo(Model):
    filename: str
    content_type: str
    size: int = Field(description="Bytes (decoded).")


class StoredEmail(Model):
    """An email of a tenant: captured from the drop-box (its raw message stays in S3 at
    ``s3_key``) or logged by hand. ``state`` is ``linking`` until its links are written, so a
    redelivery after a crash finishes the job instead of skipping it as a duplicate."""

    tenant_id: str
    id: int
    source: Source
    message_id: str | None = None
    subject: str
    from_address: str | None = None
    from_name: str | None = None
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    sent_at: str
    body: str
    snippet: str
    attachments: list[AttachmentInfo] = Field(default_factory=list)
    size: int | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None
    state: Literal["linking", "stored"] = "stored"
    matched: bool = False  # at capture: did any lead of the tenant have one of its addresses?
    created_by: int | None = None  # the user who logged it (logged emails)
    created_at: str

    @property
    def has_attachments(self) -> bool:
        return bool(self.attachments)

    def summary(self) -> dict[str, Any]:
        """What a link to a lead (and a participant item) repeats of the email."""
        return {
            **{name: getattr(self, name) for name in SUMMARY_FIELDS},
            "has_attachments": self.has_attachments,
        }


# The fields of an email that its links (and its participant items) repeat, with has_attachments.
SUMMARY_FIELDS = ("id", "source", "message_id", "subject", "from_address", "to", "cc", "sent_at", "snippet")


class EmailLink(Model):
    """An email linked to one lead: what the list of the lead's emails shows."""

    tenant_id: str
    lead_id: int
    id: int  # the email's id
    source: Source
    message_id: str | None = None
    subject: str
    from_address: str | None = None
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    sent_at: str
    snippet: str
    direction: Direction
    has_attachments: bool = False
    linked_at: str

    @classmethod
    def of(
        cls, summary: Mapping[str, Any], tenant_id: str, lead_id: int, lead_email: str | None, now: str
    ) -> EmailLink:
        """The link of an email (its ``summary``: a stored email's, or a participant item's) to
        a lead; ``inbound`` when the lead sent it, ``outbound`` when it was sent to the lead."""
        sender = (summary.get("from_address") or "").strip().lower()
        inbound = bool(sender) and sender == (lead_email or "").strip().lower()
        values = {name: summary[name] for name in SUMMARY_FIELDS if name in summary}
        return cls(
            **values,
            tenant_id=tenant_id,
            lead_id=lead_id,
            has_attachments=bool(summary.get("has_attachments")),
            direction="inbound" if inbound else "outbound",
            linked_at=now,
        )


# ------------------------------------------------------------------ responses
class LinkedEmailOut(Model):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    message_id: str | None = Field(description="The Message-ID header (null for logged emails).")
    subject: str
    from_: str | None = Field(alias="from")
    to: list[str]
    cc: list[str]
    sent_at: str
    snippet: str = Field(description="The first 200 characters of the text body.")
    direction: Direction = Field(description="inbound: the lead sent it; outbound: it was sent to the lead.")
    has_attachments: bool

    @classmethod
    def of(cls, link: EmailLink) -> LinkedEmailOut:
        return cls.model_validate({**link.model_dump(), "from": link.from_address})


class LinkedEmailList(Model):
    data: list[LinkedEmailOut]


class LinkedEmailDetail(LinkedEmailOut):
    from_name: str | None
    body: str = Field(description="The text body (HTML converted to text when there was no plain part).")
    attachments: list[AttachmentInfo] = Field(description="Names and sizes; the files stay in storage.")
    source: Source = Field(description="captured (by the drop-box address) or logged (by hand).")
    lead_id: int
    linked_at: str

    @classmethod
    def of_email(cls, link: EmailLink, email: StoredEmail) -> LinkedEmailDetail:
        return cls.model_validate(
            {
                **link.model_dump(),
                "from": email.from_address,
                "from_name": email.from_name,
                "body": email.body,
                "attachments": [a.model_dump() for a in email.attachments],
            }
        )
