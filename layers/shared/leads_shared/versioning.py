"""Items with a ``version``: their ETag, what ``If-Match`` accepts, and the read-check-write
loop that loses no concurrent update. One home for these rules, whatever the item (a lead, the
tenant's settings)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Protocol

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


def matches_etag(if_match: str | None, item: Versioned) -> bool:
    """``If-Match`` absent, ``*``, or one of its entity tags equal to the item's (weak or strong)."""
    if if_match is None:
        return True
    tags = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    return "*" in tags or item.etag in tags


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
