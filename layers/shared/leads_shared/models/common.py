"""Bodies shared by every route: the error envelope and the plain success answer."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError


class ErrorBody(BaseModel):
    message: str = Field(examples=["Lead not found."])


class ValidationErrorBody(BaseModel):
    message: str = Field(examples=["The first name field is required."])
    errors: dict[str, list[str]] = Field(examples=[{"first_name": ["The first name field is required."]}])


class SuccessBody(BaseModel):
    success: bool = True


def blank_to_none(value: Any) -> Any:
    """Empty and blank strings mean "no value" (as the API's existing clients send them)."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def blank_to(default: Any) -> Any:
    """A before-validator: an empty query value means the parameter's default."""

    def validator(value: Any) -> Any:
        return default if isinstance(value, str) and not value.strip() else value

    return validator


Text50 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
Text255 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]
Text1000 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
Text10k = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]

RequiredName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
OptionalText255 = Annotated[Text255 | None, BeforeValidator(blank_to_none)]
OptionalText1000 = Annotated[Text1000 | None, BeforeValidator(blank_to_none)]
OptionalPhone = Annotated[Text50 | None, BeforeValidator(blank_to_none)]
OptionalLongText = Annotated[Text10k | None, BeforeValidator(blank_to_none)]


def integer_id(value: Any) -> Any:
    """JSON ids are integers (JSON Schema counts ``2.0`` as one) or digit strings; ``true`` is not.
    Blank means no id."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return int(value) if isinstance(value, float) else blank_to_none(value)


# An id of a record of the caller's tenant (contact, company, deal, stage) in a body.
RecordId = Annotated[Annotated[int, Field(ge=1, le=2**53)] | None, BeforeValidator(integer_id)]
