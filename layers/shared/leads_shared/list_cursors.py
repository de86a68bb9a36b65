"""The cursors of ``GET /leads`` (``next_cursor``, ``?cursor=``): where the next page starts.

A cursor is opaque to clients and signed (HMAC-SHA256 with ``list_cursor_secret``, else a key
derived from ``jwt_secret``): ``<payload>.<signature>``, both base64url. The payload holds the
position (the sort key and id of the last lead listed, and which kind of key that is), how many
leads came before the next page, when the cursor expires, and a digest of what it is bound to:
the tenant, the caller and the query's filters, scope and sort (not ``per_page``, which may
change between pages). A cursor altered, of another tenant, caller or query, or expired is a
422 naming ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from leads_shared.errors import ValidationFailed

if TYPE_CHECKING:
    from collections.abc import Callable

    from leads_shared.config import Settings

VERSION = 1
INVALID = "The cursor is invalid."
EXPIRED = "The cursor has expired: start again from the first page."
ANOTHER_QUERY = "The cursor belongs to another query: send it with the filters, scope and sort it came with."
NOT_CONFIGURED = "Cursors are not enabled on this deployment (ListCursorSecret)."


@dataclass(frozen=True)
class ListPosition:
    """Where the next page starts: right after the lead ``lead_id`` whose sort key is
    ``sort_key``, ``listed`` leads in. ``kind`` says which key it is: ``sort``, the order's sort
    key (``lead_listing.SORT_KEYS``: the name indexes GSI1-3 are sorted by the same), or
    ``creation``, the LIST index's (creation time and id)."""

    kind: Literal["sort", "creation"]
    sort_key: str
    lead_id: int
    listed: int


def binding(tenant_id: str, user_id: int, filters: dict[str, Any]) -> str:
    """What a cursor is bound to: the tenant, the caller and the query (``LeadFilters``)."""
    text = json.dumps([tenant_id, user_id, filters], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _key(settings: Settings) -> bytes | None:
    if settings.list_cursor_secret:
        return settings.list_cursor_secret.encode()
    if settings.jwt_secret:  # never the token secret itself: a key derived from it for this use
        return hmac.new(settings.jwt_secret.encode(), b"leads list cursor", hashlib.sha256).digest()
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def enabled(settings: Settings) -> bool:
    return _key(settings) is not None


def issue(position: ListPosition, bound_to: str, settings: Settings, now: float | None = None) -> str | None:
    """The cursor of ``position`` (None when no secret is configured)."""
    key = _key(settings)
    if key is None:
        return None
    expires = int((time.time() if now is None else now) + settings.list_cursor_seconds)
    body = {"v": VERSION, "b": bound_to, "x": expires, **asdict(position)}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_signature(key, payload)}"


def read(cursor: str, bound_to: str, settings: Settings, now: float | None = None) -> ListPosition:
    """The position a cursor holds, if this deployment signed it for this query and it has
    not expired; otherwise ``ValidationFailed`` naming ``cursor``."""
    key = _key(settings)
    if key is None:
        raise ValidationFailed({"cursor": [NOT_CONFIGURED]})
    payload, _, signature = cursor.partition(".")
    if not hmac.compare_digest(signature.encode(), _signature(key, payload).encode()):
        raise ValidationFailed({"cursor": [INVALID]})
    try:
        body = json.loads(_unb64(payload))
        position = ListPosition(body["kind"], body["sort_key"], int(body["lead_id"]), int(body["listed"]))
        expires, bound, version = int(body["x"]), body["b"], body["v"]
    except (ValueError, KeyError, TypeError, binascii.Error):  # signed by us: only an old format
        raise ValidationFailed({"cursor": [INVALID]}) from None
    if version != VERSION or position.kind not in ("sort", "creation"):
        raise ValidationFailed({"cursor": [INVALID]})
    if bound != bound_to:
        raise ValidationFailed({"cursor": [ANOTHER_QUERY]})
    if (time.time() if now is None else now) >= expires:
        raise ValidationFailed({"cursor": [EXPIRED]})
    return position


def keyed_page[T](
    cursor: str | None,
    bound_to: str,
    settings: Settings,
    fetch: Callable[[ListPosition | None], tuple[list[T], bool]],
    position_of: Callable[[T], tuple[str, int]],
) -> tuple[list[T], str | None]:
    """A page of a list read in its index's order from a cursor's position: the cursor read
    (``read``), the page fetched after it (``fetch``: the page and whether more follow), and the
    next page's cursor at the page's last item (``position_of``: its sort key and id) when more
    follow."""
    after = read(cursor, bound_to, settings) if cursor else None
    found, more = fetch(after)
    if not (more and found):
        return found, None
    sort_key, item_id = position_of(found[-1])
    listed = (after.listed if after else 0) + len(found)
    return found, issue(ListPosition("sort", sort_key, item_id, listed), bound_to, settings)
