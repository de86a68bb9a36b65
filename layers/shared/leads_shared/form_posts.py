"""What a public post to a form says: its body (JSON, a urlencoded or a multipart browser post)
read into text values, within the limits (64 KB a submission, 4 KB a field, 100 fields), and who
sent it (the client IP as API Gateway saw it, the user agent, the page)."""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from leads_shared.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_SUBMISSION_BYTES = 64 * 1024
MAX_FIELD_BYTES = 4 * 1024
MAX_FIELDS = 100
MAX_NAME_CHARS = 100
JSON = "application/json"
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
NOT_A_FORM = "The body must be JSON, or a form (application/x-www-form-urlencoded or multipart/form-data)."


@dataclass(frozen=True)
class Visit:
    """Who posted, as the request says it (the IP is API Gateway's, not a header's)."""

    ip: str | None
    user_agent: str | None
    referer: str | None


@dataclass(frozen=True)
class Post:
    values: dict[str, str]
    browser: bool  # a form post (answer with pages and redirects), not JSON


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else ""
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value
    raise ValidationFailed({name: [f"The {name.replace('_', ' ')} field must be text."]})


def _checked(pairs: list[tuple[str, Any]]) -> dict[str, str]:
    if len(pairs) > MAX_FIELDS:
        raise BadRequest(f"A submission may have at most {MAX_FIELDS} fields.")
    values: dict[str, str] = {}
    for name, value in pairs:
        if not name or len(name) > MAX_NAME_CHARS:
            raise BadRequest(f"Field names must have 1 to {MAX_NAME_CHARS} characters.")
        if value is None or name in values:  # the first of repeated fields counts
            continue
        text = _text(name, value)
        if len(text.encode("utf-8", "surrogatepass")) > MAX_FIELD_BYTES:
            raise ValidationFailed(
                {
                    name: [
                        f"The {name.replace('_', ' ')} field must not be larger than {MAX_FIELD_BYTES} bytes."
                    ]
                }
            )
        values[name] = text
    return values


def _multipart(content_type: str, raw: bytes) -> list[tuple[str, Any]]:
    if "boundary=" not in content_type.lower():
        raise BadRequest("The multipart/form-data body has no boundary.")
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    if not message.is_multipart():
        raise BadRequest("The multipart/form-data body could not be read.")
    pairs: list[tuple[str, Any]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_filename():  # files are not a form's fields
            continue
        payload = part.get_payload(decode=True)
        try:
            pairs.append((name, (payload if isinstance(payload, bytes) else b"").decode("utf-8")))
        except UnicodeDecodeError:
            raise BadRequest("The body must be UTF-8 encoded.") from None
    return pairs


def read_post(body: str | None, base64_encoded: bool, content_type: str | None) -> Post:
    """The post's values. 413 past 64 KB, 400 for a body that cannot be read, 415 for one that
    is neither JSON nor a form, 422 for a field past 4 KB or a JSON value that is not text."""
    try:
        raw = base64.b64decode(body or "", validate=True) if base64_encoded else (body or "").encode()
    except binascii.Error:
        raise BadRequest("The body could not be read.") from None
    if len(raw) > MAX_SUBMISSION_BYTES:
        raise PayloadTooLarge(MAX_SUBMISSION_BYTES)
    kind = media_type(content_type)
    if kind == JSON or (kind == URLENCODED and raw.lstrip()[:1] == b"{"):
        try:
            parsed = json.loads(raw or b"null")
        except (ValueError, RecursionError):
            raise BadRequest("The request body is not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise ValidationFailed({"body": ["The request body must be a JSON object."]})
        return Post(_checked(list(parsed.items())), browser=False)
    if kind == URLENCODED:
        try:
            text = raw.decode("utf-8")
            pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("The form body could not be read.") from None
        return Post(_checked(list(pairs)), browser=True)
    if kind == MULTIPART:
        return Post(_checked(_multipart(content_type or "", raw)), browser=True)
    raise UnsupportedMediaType(NOT_A_FORM)
