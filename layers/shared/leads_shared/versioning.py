"""Items with a ``version``: their ETag, what ``If-Match`` accepts, and the read-check-write
loop that loses no concurrent update. One home for these rules, whatever the item (a lead, the
tenant's settings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from leads_shared.data.writes import VersionConflict
from leads_shared.errors import Conflict, PreconditionFailed

# How often a write is retried when a concurrent writer got there first.
MAX_WRITE_ATTEMPTS = 8


class Versioned(Protocol):
    """An item with an entity tag (its version, quoted: ``"3"``)."""

    @property
    def etag(self) -> str: ...


def _opaque_tag(tag: str) -> str:
    """An entity tag without its weak prefix and quotes: ``W/"3"``, ``"3"`` and a bare ``3`` (which
    RFC 9110 does not allow, but clients send: a version copied without its quotes) are all ``3``."""
    return tag.strip().removeprefix("W/").strip().strip('"')


def matches_etag(if_match: str | None, item: Versioned) -> bool:
    """``If-Match`` absent, ``*``, or one of its entity tags equal to the item's (weak or strong,
    quoted or not)."""
    if if_match is None:
        return True
    tags = [_opaque_tag(tag) for tag in if_match.split(",")]
    return "*" in tags or _opaque_tag(item.etag) in tags


def without_lost_updates[T](attempt: Callable[[], T], if_match: str | None, resource: str = "lead") -> T:
    """Run a read-check-write ``attempt`` until its conditional write holds. When the item changed
    between the read and the write (``VersionConflict``): with ``If-Match`` that is a 412 (the
    client's version is gone); without, the attempt is made again on the fresh item."""
    for _ in range(MAX_WRITE_ATTEMPTS):
        try:
            return attempt()
        except VersionConflict:
            if if_match is not None:
                raise PreconditionFailed() from None
    raise Conflict(f"The {resource} is being changed by others. Please retry.")
