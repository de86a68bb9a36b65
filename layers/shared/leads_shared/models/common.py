"""Bodies shared by every route: the error envelope and the plain success answer."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints


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


def _plain_text(max_length: int) -> Any:
    return Annotated[str, StringConstraints(strip_whitespace=True, max_length=max_length)]


RequiredName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
OptionalText255 = Annotated[_plain_text(255) | None, BeforeValidator(blank_to_none)]
OptionalText1000 = Annotated[_plain_text(1000) | None, BeforeValidator(blank_to_none)]
OptionalPhone = Annotated[_plain_text(50) | None, BeforeValidator(blank_to_none)]
OptionalLongText = Annotated[_plain_text(10_000) | None, BeforeValidator(blank_to_none)]

# Answers every route may give, for the OpenAPI document.
COMMON_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "Missing, invalid or expired token.",
        "content": {"application/json": {"model": ErrorBody}},
    },
    422: {
        "description": "Validation failed.",
        "content": {"application/json": {"model": ValidationErrorBody}},
    },
    500: {
        "description": "Unexpected failure (logged).",
        "content": {"application/json": {"model": ErrorBody}},
    },
}


def responses(success: tuple[int, type[BaseModel], str], *statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's documented answers: its success (status, body model, description), the common
    errors, and the given error statuses, all in the error envelope."""
    descriptions = {
        400: "Malformed request.",
        403: "The caller's role may not do this.",
        404: "Not found in the caller's tenant.",
        409: "Conflicts with the resource's current state.",
        412: "If-Match does not match the current version.",
        413: "Body too large.",
    }
    ok_status, ok_model, ok_description = success
    answers: dict[int | str, dict[str, Any]] = {
        ok_status: {"description": ok_description, "content": {"application/json": {"model": ok_model}}},
        **COMMON_ERROR_RESPONSES,
    }
    for status in statuses:
        answers[status] = {
            "description": descriptions[status],
            "content": {"application/json": {"model": ErrorBody}},
        }
    return answers
