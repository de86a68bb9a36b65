"""Who is calling: a verified token's ``Identity`` becomes a user of the tenant's directory.

- A subject seen for the first time gets its user (just-in-time provisioning): the next free id
  of the tenant (an integer subject keeps meaning that id), with the name, email, role and team
  of the token (no name: the email, else "User <id>"). Concurrent first requests make one user.
  A user an admin created with the same email and no external id yet is that subject's user.
- When the token's claims change (name, email, role, team), the user follows; claims already
  seen cost nothing: each container remembers a caller for ``identity_cache_seconds`` (60 s), so
  deactivating a user takes effect within that time.
- The role is the token's when it carries one, else the directory's.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from leads_shared.auth import Identity, Principal
from leads_shared.clock import utc_now
from leads_shared.data.directory_store import DirectoryStore, Taken, TeamMissing
from leads_shared.data.sequences import IdTaken
from leads_shared.directory import change_user
from leads_shared.errors import Deactivated, DomainError, ValidationFailed
from leads_shared.models.directory import User
from leads_shared.observability import logger

MAX_REMEMBERED = 10_000


class _Memory:
    """Callers seen lately by this container: identity (all its claims) -> (expiry, user)."""

    def __init__(self) -> None:
        self._seen: OrderedDict[Identity, tuple[float, User]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, identity: Identity) -> User | None:
        with self._lock:
            found = self._seen.get(identity)
            if found is None or found[0] <= time.monotonic():
                return None
            return found[1]

    def put(self, identity: Identity, user: User, ttl: float) -> None:
        with self._lock:
            self._seen[identity] = (time.monotonic() + ttl, user)
            self._seen.move_to_end(identity)
            while len(self._seen) > MAX_REMEMBERED:
                self._seen.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


remembered = _Memory()


def resolve(identity: Identity, directory: DirectoryStore, ttl: float) -> Principal:
    """The calling user (403 ``Deactivated`` for a deactivated one)."""
    user = remembered.get(identity)
    if user is None:
        user = _user_of(identity, directory)
        remembered.put(identity, user, ttl)
    if not user.active:
        raise Deactivated()
    return Principal(
        user_id=user.id,
        tenant_id=identity.tenant_id,
        role=identity.role or user.role,
        team_id=identity.team_id if identity.team_id is not None else user.team_id,
        name=user.name,
        email=user.email,
    )


def _user_of(identity: Identity, directory: DirectoryStore) -> User:
    """Find (or make) the subject's user, and have it follow the token's claims."""
    for _ in range(3):
        user = directory.user_of_subject(identity.tenant_id, identity.subject, identity.user_id)
        if user is None:
            user = _first_request(identity, directory)
        if user is not None:
            return _follow_claims(user, identity, directory)
    raise DomainError("The caller's user could not be provisioned.")  # pragma: no cover


def _first_request(identity: Identity, directory: DirectoryStore) -> User | None:
    """Make the subject's user; None when a concurrent first request made it first."""
    email = identity.email
    if email:
        owner = directory.user_with_email(identity.tenant_id, email)
        if owner is not None and owner.external_id is None and identity.user_id is None:
            # an admin created this user ahead of their first sign-in: it is theirs now
            return _claim(owner, identity, directory)
        if owner is not None:
            logger.warning("first sign-in with the email of another user", extra={"user_id": owner.id})
            email = None
    now = utc_now()
    team_id = identity.team_id
    for _ in range(2):
        user = User(
            tenant_id=identity.tenant_id,
            id=identity.user_id or 0,
            name=identity.name or email or "",
            email=email,
            role=identity.role or "user",
            team_id=team_id,
            external_id=None if identity.user_id else identity.subject,
            created_at=now,
            updated_at=now,
        )
        try:
            if identity.user_id is not None:
                made = _named(user, identity.user_id)
                directory.insert_user(made)
            else:
                made = directory.insert_new_user(user, lambda numbered: _named(numbered, numbered.id))
        except (IdTaken, Taken):
            return None  # a concurrent first request won: read its user
        except TeamMissing:
            team_id = None  # the token's team is not (yet) a team of the directory
            continue
        logger.info("user provisioned on first sign-in", extra={"user_id": made.id})
        return made
    return None  # pragma: no cover


def _named(user: User, user_id: int) -> User:
    return user if user.name else user.model_copy(update={"name": f"User {user_id}"})


def _claim(owner: User, identity: Identity, directory: DirectoryStore) -> User | None:
    try:
        return change_user(
            owner.tenant_id,
            owner.id,
            lambda user: user.model_copy(update={"external_id": identity.subject}),
            directory,
        )
    except ValidationFailed:
        return None  # the subject's marker was made by a concurrent first request


def _follow_claims(user: User, identity: Identity, directory: DirectoryStore) -> User:
    """The user with what the token says of them (written only when something differs)."""
    if not user.active:
        return user
    wanted = {
        "name": identity.name,
        "email": identity.email,
        "role": identity.role,
        "team_id": identity.team_id,
    }
    changes = {
        field: value
        for field, value in wanted.items()
        if value is not None
        and value != getattr(user, field)
        and not (field == "email" and str(value).lower() == (user.email or "").lower())
    }
    if not changes:
        return user
    try:
        return change_user(user.tenant_id, user.id, lambda u: u.model_copy(update=changes), directory)
    except ValidationFailed as failed:
        # the token's email belongs to another user, or its team is not one of the tenant's:
        # follow the rest
        for field in failed.errors:
            changes.pop(field, None)
        if not changes:
            return user
        return change_user(user.tenant_id, user.id, lambda u: u.model_copy(update=changes), directory)
