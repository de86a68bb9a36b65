"""Lead forms: the admin's bodies, the stored form, its submissions, and the answers."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from leads_shared.models.common import (
    Model,
    OptionalText255,
    OptionalText1000,
    RequiredName,
    Text255,
    UserId,
    blank_to_none,
)
from leads_shared.models.leads import Attribution, Consent, LeadStatus

if TYPE_CHECKING:
    from pydantic.config import JsonDict

# The lead fields a form may ask for (``consent``: the consent checkbox, on no lead field).
FormFieldName = Literal[
    "first_name", "last_name", "email", "phone", "company", "job_title", "notes", "consent"
]
FieldType = Literal["text", "email", "phone", "select", "textarea", "checkbox"]
CaptchaProvider = Literal["turnstile", "hcaptcha", "recaptcha"]
Outcome = Literal["created", "updated", "duplicate", "spam"]
MAX_FIELDS = 20
MAX_ORIGINS = 20
MAX_OPTIONS = 50
# What a field of each lead field may be (``text`` and ``textarea`` also take ``select``).
_TYPES_OF: dict[str, set[str]] = {
    "email": {"email"},
    "phone": {"phone", "text"},
    "notes": {"textarea", "text"},
    "consent": {"checkbox"},
}
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,200}")


def _origin(value: Any) -> Any:
    """``https://www.example.com`` (scheme, host, optional port; no path), any case: stored in
    lower case, as browsers send the ``Origin`` header."""
    if isinstance(value, str):
        value = value.strip().rstrip("/").lower()
        if not _ORIGIN.fullmatch(value):
            raise PydanticCustomError(
                "own_message",
                "Each allowed origin must be a scheme and host, such as https://www.example.com.",
            )
    return value


def _web_url(value: Any) -> Any:
    value = blank_to_none(value)
    if isinstance(value, str):
        value = value.strip()
        try:
            parts = urlsplit(value)
            valid = parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) <= 2000
        except ValueError:
            valid = False
        if not valid:
            raise PydanticCustomError("own_message", "The redirect url must be an http(s) URL.")
    return value


# The rules above as the document states them (any case; spaces around are trimmed).
ORIGIN_PATTERN = r"^\s*[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/*\s*$"
URL_PATTERN = r"^\s*$|^\s*[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#]\S*)?\s*$"
Origin = Annotated[
    str,
    BeforeValidator(_origin),
    Field(examples=["https://www.example.com"], json_schema_extra={"pattern": ORIGIN_PATTERN}),
]
RedirectUrl = Annotated[
    str | None,
    BeforeValidator(_web_url),
    Field(
        description="Where a browser's post is sent after it (303); none: a thank-you page.",
        json_schema_extra={"pattern": URL_PATTERN, "maxLength": 2000},
    ),
]


def _whole_number(value: Any) -> Any:
    """An integer as JSON Schema counts one (``5`` or ``5.0``); not ``true``, not ``"5"``."""
    if isinstance(value, bool | str) or (isinstance(value, float) and not value.is_integer()):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return int(value) if isinstance(value, float) else value


Limit = Annotated[int, BeforeValidator(_whole_number)]


class FormField(Model):
    """One field of a form, mapped to the lead field of the same ``name``."""

    model_config = ConfigDict(extra="ignore")

    name: FormFieldName = Field(description="The lead field it sets (`consent`: the consent checkbox).")
    label: RequiredName
    type: FieldType = "text"
    required: StrictBool = False
    options: list[Text255] = Field(default_factory=list, max_length=MAX_OPTIONS, description="For `select`.")

    @model_validator(mode="after")
    def _coherent(self) -> FormField:
        allowed = _TYPES_OF.get(self.name, {"text", "select", "textarea"})
        if self.type not in allowed:
            raise PydanticCustomError(
                "own_message", f"A {self.name} field's type must be one of: {', '.join(sorted(allowed))}."
            )
        if self.type == "select" and not self.options:
            raise PydanticCustomError("own_message", "A select field needs options.")
        return self


class CaptchaSettings(Model):
    """CAPTCHA on the form: the provider, its site key (public), and the name of the SSM parameter
    (SecureString) holding its secret, under ``/leads/<stage>/captcha/<tenant id>/``."""

    model_config = ConfigDict(extra="ignore")

    provider: CaptchaProvider
    site_key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    secret_parameter: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=_PARAMETER_NAME.pattern)
    ]


FORM_EXAMPLE: JsonDict = {
    "name": "Contact us",
    "fields": [
        {"name": "first_name", "label": "First name", "required": True},
        {"name": "last_name", "label": "Last name", "required": True},
        {"name": "email", "label": "Work email", "type": "email", "required": True},
        {"name": "company", "label": "Company"},
        {"name": "notes", "label": "How can we help?", "type": "textarea"},
        {"name": "consent", "label": "I agree to be contacted", "type": "checkbox", "required": True},
    ],
    "source": "Website",
    "owner_id": 2,
    "allowed_origins": ["https://www.example.com"],
    "redirect_url": "https://www.example.com/thanks",
    "consent_text": "We will contact you about our products. You can unsubscribe at any time.",
}


class FormSettings(Model):
    """What an admin sets on a form (every field but ``name`` and ``fields`` has a default)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [FORM_EXAMPLE]})

    name: RequiredName
    fields: list[FormField] = Field(min_length=1, max_length=MAX_FIELDS)
    source: OptionalText255 = Field(default=None, description="Set on its leads (else their `utm_source`).")
    status: LeadStatus = "new"
    tags: OptionalText1000 = None
    owner_id: UserId = Field(
        default=None, description="The user new leads are assigned to (none: unassigned)."
    )
    allowed_origins: list[Origin] = Field(default_factory=list, max_length=MAX_ORIGINS)
    redirect_url: RedirectUrl = None
    consent_text: OptionalText1000 = None
    active: StrictBool = True
    always_create: StrictBool = Field(
        default=False, description="Create a lead even when an open lead has the email (else update it)."
    )
    timing_check: StrictBool = Field(
        default=True,
        description="Posts need the signed time token the page and the script carry (off: for servers "
        "posting JSON themselves).",
    )
    captcha: CaptchaSettings | None = None
    rate_limit_per_minute: Limit = Field(default=60, ge=1, le=10_000)
    rate_limit_per_ip_per_minute: Limit = Field(default=10, ge=1, le=1_000)

    @field_validator("fields")
    @classmethod
    def _names_once(cls, fields: list[FormField]) -> list[FormField]:
        names = [field.name for field in fields]
        if len(set(names)) != len(names):
            raise PydanticCustomError("own_message", "Each lead field may appear once in a form.")
        if not {"first_name", "last_name"} <= set(names):
            raise PydanticCustomError("own_message", "A form needs the first_name and last_name fields.")
        return fields

    @model_validator(mode="after")
    def _consent_has_text(self) -> FormSettings:
        if any(field.name == "consent" for field in self.fields) and not self.consent_text:
            raise PydanticCustomError("own_message", "A form with a consent field needs a consent_text.")
        return self


class FormCreate(FormSettings):
    pass


class FormUpdate(FormSettings):
    """``PUT /lead-forms/{id}``: the whole form, as ``POST`` takes it; ``rotate_key: true`` also
    gives it a new public key (the old one stops working at once)."""

    rotate_key: StrictBool = False


class LeadForm(FormSettings):
    """A stored form (without keys)."""

    tenant_id: str
    id: int
    public_key: str
    # Signs the time tokens of its page and script (HMAC-SHA256); rotates with the key.
    token_secret: str
    consent_version: int = 0
    created_at: str
    updated_at: str
    version: int = 1


class FormOut(FormSettings):
    id: int
    public_key: str = Field(description="In the form's public URLs; unguessable, rotatable.")
    hosted_url: str = Field(description="The hosted page (path on the API's host).", examples=["/f/k3Yx..."])
    embed_url: str = Field(description="The script that renders the form into a page.")
    consent_version: int = Field(description="1 for the first consent text, one more at each change.")
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, form: LeadForm) -> FormOut:
        values = form.model_dump(exclude={"tenant_id", "token_secret", "version"})
        return cls.model_validate(
            {**values, "hosted_url": f"/f/{form.public_key}", "embed_url": f"/f/{form.public_key}/embed.js"}
        )


class FormList(Model):
    data: list[FormOut]


# ------------------------------------------------------------------ submissions
class Submission(Model):
    """What a form received (stored; ``values``: the form's fields as posted)."""

    tenant_id: str
    form_id: int
    id: str
    received_at: str
    outcome: Outcome
    reason: str | None = None
    lead_id: int | None = None
    attribution: Attribution
    values: dict[str, str] = Field(default_factory=dict)
    consent: Consent | None = None


class SubmissionOut(Model):
    id: str
    received_at: str
    outcome: Outcome = Field(description="`spam` with its `reason`; `duplicate`: an open lead had the email.")
    reason: str | None
    lead_id: int | None
    page_url: str | None
    attribution: Attribution
    values: dict[str, str]
    consent: Consent | None

    @classmethod
    def of(cls, submission: Submission) -> SubmissionOut:
        return cls.model_validate(
            {
                **submission.model_dump(exclude={"tenant_id", "form_id"}),
                "page_url": submission.attribution.page_url,
            }
        )


class SubmissionList(Model):
    data: list[SubmissionOut] = Field(description="Newest first.")


class CaptureAnswer(Model):
    """What a public post answers (the same whether it made a lead, updated one, or was spam: a bot
    learns nothing, and no visitor learns whether an email is a lead already)."""

    submission_id: str
    message: str = Field(examples=["Thank you! We will be in touch."])
    redirect_url: str | None = None
