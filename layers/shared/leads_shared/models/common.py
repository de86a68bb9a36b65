"""Bodies shared by every route: the error envelope and the plain success answer."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic_core import PydanticCustomError, core_schema

if TYPE_CHECKING:
    from pydantic.json_schema import JsonSchemaValue


class Model(BaseModel):
    """What every model of the API is. Its validator and serializer are built on first use, not
    when the class is defined (``defer_build``): a cold start pays only for the models its first
    request uses, and under SnapStart all of them are built before the snapshot (snapstart.py)."""

    model_config = ConfigDict(defer_build=True)


class ErrorBody(Model):
    message: str = Field(examples=["Lead not found."])


class ValidationErrorBody(Model):
    message: str = Field(examples=["The first name field is required."])
    errors: dict[str, list[str]] = Field(examples=[{"first_name": ["The first name field is required."]}])


class SuccessBody(Model):
    success: bool = True


def blank_to_none(value: Any) -> Any:
    """Empty and blank strings mean "no value" (as the API's existing clients send them)."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


# How the OpenAPI document spells "a blank string": empty or only spaces.
BLANK_SCHEMA: dict[str, Any] = {"type": "string", "pattern": r"^\s*$"}
# Keywords that describe a parameter as a whole; they stay outside its `anyOf`.
OUTER_KEYWORDS = ("title", "description", "default", "examples")


class BlankMeans:
    """``Annotated[T, BlankMeans(default), Query()]``: a query or header value that is blank
    (``""``, spaces) means ``default`` (``None``: no value). It is replaced before validation, and
    the OpenAPI document lists the blank string as an accepted alternative of ``T``, so a client
    (or a contract fuzzer) reading the document knows ``?date_from=`` is not an error."""

    def __init__(self, default: Any = None) -> None:
        self.default = default

    def replace(self, value: Any) -> Any:
        return self.default if isinstance(value, str) and not value.strip() else value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self.replace, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        inner = dict(handler(schema))
        outer = {key: inner.pop(key) for key in OUTER_KEYWORDS if key in inner}
        alternatives = inner["anyOf"] if set(inner) == {"anyOf"} else [inner]
        return {**outer, "anyOf": [*alternatives, BLANK_SCHEMA]}


class EmailFormat:
    """Documents a string as an email address (``format: email``); the check itself is
    email-validator's, in the model's own validator."""

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), "format": "email"}


# Characters a text a person typed never holds: control characters (C0, DEL, C1) and the bidi
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make a name display
# other than it reads ("Trojan Source"). A long text (notes, descriptions) keeps tabs and line
# breaks, and the bidi marks right-to-left writers use.
_SHORT_TEXT_REFUSES = r"\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069"
_LONG_TEXT_REFUSES = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
_NOT_IN_SHORT_TEXT = re.compile(f"[{_SHORT_TEXT_REFUSES}]")
_NOT_IN_LONG_TEXT = re.compile(f"[{_LONG_TEXT_REFUSES}]")


class PlainText:
    """``Annotated[str, ..., PlainText()]``: a 422 for a text holding what ``_NOT_IN_SHORT_TEXT``
    (``PlainText(long=True)``: ``_NOT_IN_LONG_TEXT``) names. One rule for every text field."""

    def __init__(self, long: bool = False) -> None:
        self.long = long

    def check(self, value: str) -> str:
        if self.long and _NOT_IN_LONG_TEXT.search(value):
            raise PydanticCustomError("long_text_characters", "Control characters are not allowed")
        if not self.long and _NOT_IN_SHORT_TEXT.search(value):
            raise PydanticCustomError("short_text_characters", "Control characters are not allowed")
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The rule as the document's ``pattern`` (a required text's also needs a non-space)."""
        documented = handler(schema)
        refused = _LONG_TEXT_REFUSES if self.long else _SHORT_TEXT_REFUSES
        if documented.get("pattern") == NOT_BLANK:
            documented["pattern"] = f"^[^{refused}]*[^\\s{refused}][^{refused}]*$"
        else:
            documented["pattern"] = f"^[^{refused}]*$"
        return documented


Text50 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50), PlainText()]
Text255 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255), PlainText()]
Text1000 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), PlainText()]
Text10k = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000), PlainText(long=True)]

# A required text: trimmed, so it must hold something besides spaces (the document says so).
NOT_BLANK = r"\S"
RequiredName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=NOT_BLANK),
    PlainText(),
]
OptionalText255 = Annotated[Text255 | None, BeforeValidator(blank_to_none)]
OptionalText1000 = Annotated[Text1000 | None, BeforeValidator(blank_to_none)]
OptionalPhone = Annotated[Text50 | None, BeforeValidator(blank_to_none)]
OptionalLongText = Annotated[Text10k | None, BeforeValidator(blank_to_none)]


def is_email(address: str) -> bool:
    """email-validator's syntax check of an address (no DNS lookup)."""
    # Imported here: its regexes take ~50 ms to compile, which a cold start whose first request
    # checks no address should not pay.
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def checked_email(value: Any) -> Any:
    """A valid address; blank means none."""
    value = blank_to_none(value)
    if isinstance(value, str) and not is_email(value):
        raise PydanticCustomError("email", "The email field must be a valid email address.")
    return value


# At most 254 characters: the longest address SMTP carries (RFC 5321), what email-validator allows.
EmailText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), EmailFormat()]
OptionalEmail = Annotated[EmailText | None, BlankMeans(None), BeforeValidator(checked_email)]
# An ``Idempotency-Key`` header's value: 1 to 255 printable ASCII characters, no spaces.
IdempotencyKeyText = Annotated[
    str, StringConstraints(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")
]
# A text searched for (in a query): trimmed, at most 255 characters.
SearchText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]


def integer_id(value: Any) -> Any:
    """JSON ids are integers (JSON Schema counts ``2.0`` as one) or digit strings; ``true`` is not.
    Blank means no id."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return int(value) if isinstance(value, float) else blank_to_none(value)


# Ids are integers per tenant that stay exact in every JSON client; user ids are smaller.
MAX_ID = 2**53
MAX_USER_ID = 2**31
UserIdParam = Annotated[int, Field(ge=1, le=MAX_USER_ID)]
# A user id of the caller's tenant in a body (an assignee).
UserId = Annotated[UserIdParam | None, BeforeValidator(integer_id)]
# An id of a record of the caller's tenant (contact, company, deal, stage) in a body.
RecordId = Annotated[Annotated[int, Field(ge=1, le=MAX_ID)] | None, BeforeValidator(integer_id)]
