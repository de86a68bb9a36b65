"""Parse a raw email (the bytes SES stores in S3) into the fields the CRM links to leads.

Standard library only. The payloads of attachments are measured, never kept.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from leads_shared.clock import format_timestamp

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
MAX_BODY_CHARS = 100_000
SNIPPET_CHARS = 200
_HTML_CHUNK = 64 * 1024

_WHITESPACE = re.compile(r"\s+")
_BLOCK_TAGS = frozenset({"p", "div", "li", "tr", "ul", "ol", "table", "blockquote", "pre", "hr"})
_BLOCK_TAGS |= {f"h{level}" for level in range(1, 7)}
_SKIPPED_TAGS = frozenset({"script", "style"})


class MessageRejected(Exception):
    """The bytes are not an email this module accepts; ``reason`` is safe to show or log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def snippet_of(text: str) -> str:
    """The text with whitespace runs collapsed to one space, cut to 200 characters."""
    return _WHITESPACE.sub(" ", text).strip()[:SNIPPET_CHARS].rstrip()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int  # decoded payload, in bytes


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    subject: str
    from_address: str | None
    from_name: str | None
    to: list[str]
    cc: list[str]
    sent_at: str | None  # ISO 8601 UTC, e.g. 2026-01-15T09:30:00.000000Z
    body_text: str
    attachments: list[Attachment]
    size: int  # of the raw message, in bytes

    @property
    def snippet(self) -> str:
        return snippet_of(self.body_text)

    @property
    def participants(self) -> set[str]:
        """Every address on the From, To and Cc lines (already lower-cased)."""
        return {address for address in (self.from_address, *self.to, *self.cc) if address}

    @property
    def has_attachments(self) -> bool:
        return bool(self.attachments)


def parse_message(raw: bytes) -> ParsedEmail:
    """Parse ``raw`` into a ParsedEmail, or raise MessageRejected.

    A message is rejected as malformed when the input is empty (or only whitespace), when no
    header could be parsed at all (random binary, plain text), when it has neither a usable
    From address nor any To/Cc address, or when its structure (e.g. a Content-Type header)
    crashes the standard library's parser. An address is usable when it contains "@"; a From
    header too damaged to parse counts as missing.
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MessageRejected("The message is larger than 10 MB.")
    if not raw.strip():
        raise MessageRejected("The message is empty.")
    try:
        return _parse(raw)
    except MessageRejected:
        raise
    except Exception as exc:  # the email package raises assorted errors on pathological input
        raise MessageRejected("The message could not be parsed.") from exc


def _parse(raw: bytes) -> ParsedEmail:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(msg, EmailMessage) or not msg.keys():
        raise MessageRejected("The message has no headers.")
    senders = _addresses(msg, "From", with_names=True)
    to, cc = _addresses(msg, "To"), _addresses(msg, "Cc")
    if not senders and not to and not cc:
        raise MessageRejected("The message has no readable sender or recipient address.")
    body_part = msg.get_body(preferencelist=("plain", "html"))
    return ParsedEmail(
        message_id=_message_id(msg) or f"sha256:{hashlib.sha256(raw).hexdigest()}",
        subject=" ".join(" ".join(_header_values(msg, "Subject")[:1]).split()),
        from_address=senders[0][1] if senders else None,
        from_name=(senders[0][0] or None) if senders else None,
        to=[address for _, address in to],
        cc=[address for _, address in cc],
        sent_at=_sent_at(msg),
        body_text=_body_text(body_part) if isinstance(body_part, EmailMessage) else "",
        attachments=list(_attachments(msg, body_part)),
        size=len(raw),
    )


def html_to_text(html: str, *, max_chars: int | None = None) -> str:
    """Render HTML as plain text: scripts and styles dropped, entities unescaped, block ends
    and ``<br>`` as line breaks, other whitespace collapsed, at most one blank line in a row.
    With ``max_chars``, stops reading the HTML once well over that much text was found."""
    parser = _TextExtractor()
    for start in range(0, len(html), _HTML_CHUNK):
        parser.feed(html[start : start + _HTML_CHUNK])
        if max_chars is not None and parser.size > 2 * max_chars:
            break
    parser.close()
    lines = (_WHITESPACE.sub(" ", line).strip() for line in "".join(parser.chunks).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML document, with newlines for block boundaries."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.size = 0  # characters collected so far
        self._skipping = 0

    def _emit(self, text: str) -> None:
        self.chunks.append(text)
        self.size += len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag == "br":
            self._emit("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self._emit("\n")
        elif tag in ("td", "th"):
            self._emit(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            # Source line breaks are spaces in HTML; only tags make line breaks.
            self._emit(_WHITESPACE.sub(" ", data))


def _header_values(msg: EmailMessage, name: str) -> list[str]:
    """The decoded values of header ``name``; falls back to the raw value if parsing fails."""
    try:
        return [str(value) for value in msg.get_all(name, [])]
    except Exception:  # the header parser can raise on pathological input: read the raw text
        return [_decode_raw(str(value)) for key, value in msg.raw_items() if key.lower() == name.lower()]


def _decode_raw(value: str) -> str:
    """A raw header value as text: 8-bit bytes read as UTF-8, encoded words decoded if possible."""
    value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # unknown charset or broken encoded word: keep the text as it is
        return value


def _addresses(msg: EmailMessage, name: str, with_names: bool = False) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs of an address header, deduped in order."""
    seen: dict[str, str] = {}
    for display_name, address in getaddresses(_header_values(msg, name)):
        address = address.strip().lower()
        if "@" in address and address not in seen:
            seen[address] = " ".join(display_name.split()) if with_names else ""
    return [(display_name, address) for address, display_name in seen.items()]


def _message_id(msg: EmailMessage) -> str:
    values = _header_values(msg, "Message-ID")
    return values[0].strip().strip("<>").strip() if values else ""


def _sent_at(msg: EmailMessage) -> str | None:
    """The Date header as a UTC timestamp; a date without a zone is taken as UTC."""
    try:
        moment = parsedate_to_datetime(_header_values(msg, "Date")[0])
    except (IndexError, TypeError, ValueError):  # missing or unparseable
        return None
    return format_timestamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _body_text(part: EmailMessage) -> str:
    """The decoded text of the body part (HTML converted), capped at MAX_BODY_CHARS."""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError):  # unknown or broken charset
        payload = part.get_payload(decode=True)
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    if not isinstance(text, str):
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_subtype() == "html":
        text = html_to_text(text, max_chars=MAX_BODY_CHARS)
    return text.strip()[:MAX_BODY_CHARS]


def _attachments(part: EmailMessage, body: object) -> Iterable[Attachment]:
    """Parts with an attachment disposition or a filename, searched through nested multiparts."""
    if part is not body and (part.is_attachment() or part.get_filename()):
        yield _attachment(part)
    elif part.get_content_maintype() == "multipart":
        for subpart in part.iter_parts():
            if isinstance(subpart, EmailMessage):
                yield from _attachments(subpart, body)


def _attachment(part: EmailMessage) -> Attachment:
    # Keep the base name only: some clients send the sender's full local path.
    filename = (part.get_filename() or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        size = len(payload)
    else:  # an attached message (message/rfc822): measure the message itself
        inner = part.get_payload()
        items = inner if isinstance(inner, list) else []
        size = sum(len(item.as_bytes()) for item in items if isinstance(item, Message))
    return Attachment(filename=filename, content_type=part.get_content_type(), size=size)
