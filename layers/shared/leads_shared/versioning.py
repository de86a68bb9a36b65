"""Items with a ``version``: their ETag, what ``If-Match`` accepts, the next version of an
item, the write that recognises its own lost answer, and the read-check-write loop that loses no
concurrent update. One home for these rules, whatever the item (a lead, a task, the tenant's
settings, a user of the directory)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, Self

from leads_shared.clock import utc_now
from leads_shared.data.writes import VersionConflict
from leads_shared.errors import Conflict, PreconditionFailed

# How often a write is retried when a concurrent writer got there first.
MAX_WRITE_ATTEMPTS = 8
# The longest wait between two attempts of a writer that waits (``backoff``).
MAX_BACKOFF_SECONDS = 5.0
pause = time.sleep  # how a waiting writer waits (tests count the waits instead)


class Versioned(Protocol):
    """An item with an entity tag (its version, quoted: ``"3"``)."""

    @property
    def etag(self) -> str: ...


class Revisable(Protocol):
    """A stored model with a ``version`` (pydantic's ``model_copy`` makes its next one)."""

    @property
    def version(self) -> int: ...

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self: ...


def next_version[R: Revisable](current: R, updated: R, now: str | None = None) -> R:
    """``updated`` as the version written over ``current``: ``version`` one more and, for an item
    that keeps one, ``updated_at`` now (``now``: the time the change already used)."""
    changes: dict[str, Any] = {"version": current.version + 1}
    if hasattr(updated, "updated_at"):  # a deal stage keeps none
        changes["updated_at"] = now or utc_now()
    return updated.model_copy(update=changes)


def confirmed_write[T](write: Callable[[], object], written: T, read_back: Callable[[], T | None]) -> T:
    """Run the conditional ``write`` of ``written``. Its ``VersionConflict`` may be our own write:
    the SDK retried a request whose answer was lost, and the retry found the version it had just
    written. When the item read back is exactly ``written``, the write was ours; otherwise the
    conflict is raised (``without_lost_updates`` then reads the item again)."""
    try:
        write()
    except VersionConflict:
        if read_back() != written:
            raise
    return written


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


def without_lost_updates[T](
    attempt: Callable[[], T],
    if_match: str | None,
    resource: str = "lead",
    *,
    attempts: int = MAX_WRITE_ATTEMPTS,
    backoff: float = 0.0,
) -> T:
    """Run a read-check-write ``attempt`` until its conditional write holds. When the item changed
    between the read and the write (``VersionConflict``): with ``If-Match`` that is a 412 (the
    client's version is gone); without, the attempt is made again on the fresh item, up to
    ``attempts`` times (then ``Conflict``). A writer with time to spare (the import worker, not
    a request) passes ``backoff``: before each new attempt it waits a random time up to
    ``backoff`` seconds, doubled at each attempt (at most ``MAX_BACKOFF_SECONDS``), so that it
    stops meeting the writers it lost to."""
    for tried in range(attempts):
        if tried and backoff:
            pause(random.uniform(0, min(MAX_BACKOFF_SECONDS, backoff * 2 ** (tried - 1))))  # noqa: S311
        try:
            return attempt()
        except VersionConflict:
            if if_match is not None:
                raise PreconditionFailed() from None
    raise Conflict(f"The {resource} is being changed by others. Please retry.")
