"""What pydantic's errors mean to our clients: each field's messages in the API's words (``The
email field must be a valid email address.``), whoever shows them: an HTTP answer
(``http_errors``), a SCIM error, or a CSV import's row errors."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from leads_shared import errors

# Error types raised by our own validators (PydanticCustomError) with a client-ready message.
OWN_MESSAGES = frozenset({"email", "own_message"})


def attribute_name(field: str) -> str:
    return field.replace("_", " ")


# pydantic's list of a literal's or an enum's values: "'a', 'b' or 'c'" (reprs).
_EXPECTED_VALUE = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|([^,\s]+)")


def allowed_values(expected: str) -> str:
    """``'a', 'b' or 'c'`` as the API lists allowed values: ``a, b, c``."""
    last = expected.rfind(" or ")
    listed = expected if last < 0 else expected[:last] + "," + expected[last + 3 :]
    found = [next(g for g in m.groups() if g is not None) for m in _EXPECTED_VALUE.finditer(listed)]
    return ", ".join(found)


def _message(error: Mapping[str, Any], field: str) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    attr = attribute_name(field)
    if kind in ("literal_error", "enum") and ctx.get("expected"):
        return f"The selected {attr} is invalid. Allowed values: {allowed_values(str(ctx['expected']))}."
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return f"The {attr} field is required."
    templates = {
        "string_too_long": "The {attr} field must not be greater than {max_length} characters.",
        "string_type": "The {attr} field must be a string.",
        "int_parsing": "The {attr} field must be an integer.",
        "int_type": "The {attr} field must be an integer.",
        "int_from_float": "The {attr} field must be an integer.",
        "int_parsing_size": "The {attr} field must be an integer.",
        "greater_than_equal": "The {attr} field must be at least {ge}.",
        "less_than_equal": "The {attr} field must not be greater than {le}.",
        "literal_error": "The selected {attr} is invalid.",
        "enum": "The selected {attr} is invalid.",
        "bool_parsing": "The {attr} field must be true or false.",
        "bool_type": "The {attr} field must be true or false.",
        "date_from_datetime_parsing": "The {attr} field must be a valid date (YYYY-MM-DD).",
        "date_parsing": "The {attr} field must be a valid date (YYYY-MM-DD).",
        "date_type": "The {attr} field must be a valid date (YYYY-MM-DD).",
        "model_attributes_type": "The request body must be a JSON object.",
        "dict_type": "The request body must be a JSON object.",
        "model_type": "The request body must be a JSON object.",
        "short_text_characters": "The {attr} field must not contain control characters or "
        "bidirectional overrides.",
        "long_text_characters": "The {attr} field must not contain control characters other than "
        "tabs and line breaks.",
    }
    if kind in templates:
        return templates[kind].format(attr=attr, **{k: v for k, v in ctx.items() if k != "attr"})
    if kind in OWN_MESSAGES:  # our validators already speak the API's language
        return str(error.get("msg"))
    return f"The {attr} field is invalid."


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def field_errors(raw: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Each field (dotted path) with its messages, each message once."""
    found: dict[str, list[str]] = {}
    for error in raw:
        field = _field(error.get("loc", ()))
        message = _message(error, field.rsplit(".", 1)[-1])
        found.setdefault(field, [])
        if message not in found[field]:
            found[field].append(message)
    return found


def invalid_input(raw: Sequence[Mapping[str, Any]]) -> errors.DomainError:
    """What pydantic's errors for a request mean: a body that is not JSON at all (400), or
    values that break their rules (422, each field with its messages)."""
    if any(e.get("type") == "json_invalid" for e in raw):
        return errors.BadRequest("The request body is not valid JSON.")
    return errors.ValidationFailed(field_errors(raw))
