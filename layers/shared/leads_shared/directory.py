"""The tenant's directory: users, teams and deal stages (the rules; the admin API, SCIM and the
identity provider's tokens all change users through these functions).

Users are never removed: leads, notes and tasks keep pointing at them. Deactivating one keeps it,
with its leads, and refuses its tokens and new assignments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from leads_shared.clock import utc_now
from leads_shared.data.directory_store import DirectoryStore, StageInUse, Taken, TeamMissing
from leads_shared.errors import Conflict, NotFound, ValidationFailed
from leads_shared.models.directory import DealStage, StageFields, Team, TeamFields, User, UserFields
from leads_shared.versioning import next_version, without_lost_updates

TAKEN = {
    "email": "The email has already been taken.",
    "external_id": "The external id has already been taken.",
}
# An admin deactivating themselves would lock the tenant out of its own directory (409).
OWN_ACCOUNT = "You cannot deactivate your own account."
# What a tenant without deal stages gets on first use: (name, probability, kind).
DEFAULT_PIPELINE = (
    ("Prospecting", 10, "open"),
    ("Proposal", 40, "open"),
    ("Negotiation", 70, "open"),
    ("Closed Won", 100, "won"),
    ("Closed Lost", 0, "lost"),
)


@contextmanager
def _user_refusals() -> Iterator[None]:
    """What the store's refusals of a user write mean to a client (422 on the field)."""
    try:
        yield
    except Taken as taken:
        raise ValidationFailed({taken.field: [TAKEN[taken.field]]}) from None
    except TeamMissing:
        raise ValidationFailed.selected("team_id") from None


def _changed[Record: (User, Team)](
    read: Callable[[], Record],
    change: Callable[[Record], Record],
    write: Callable[[Record, Record], None],
    resource: str,
) -> Record:
    """Read, apply ``change``, write only when something changed (new version and
    ``updated_at``); a concurrent change is read again and ``change`` applied to it."""

    def attempt() -> Record:
        current = read()
        updated = change(current)
        if updated == current:
            return current
        updated = next_version(current, updated)
        write(current, updated)
        return updated

    return without_lost_updates(attempt, None, resource)


# ------------------------------------------------------------------ users
def get_user(tenant_id: str, user_id: int, directory: DirectoryStore) -> User:
    user = directory.user(tenant_id, user_id)
    if user is None:
        raise NotFound("User")
    return user


def list_users(
    tenant_id: str,
    directory: DirectoryStore,
    *,
    active: bool | None = None,
    team_id: int | None = None,
    search: str | None = None,
) -> list[User]:
    """The tenant's users by name (one Query of the directory), filtered."""
    needle = (search or "").strip().casefold()
    found = [
        user
        for user in directory.users(tenant_id)
        if (active is None or user.active == active)
        and (team_id is None or user.team_id == team_id)
        and (not needle or needle in user.name.casefold() or needle in (user.email or "").casefold())
    ]
    return sorted(found, key=lambda user: (user.name.casefold(), user.id))


def team_names(tenant_id: str, directory: DirectoryStore) -> dict[int, str]:
    return {team.id: team.name for team in directory.teams(tenant_id)}


def create_user(tenant_id: str, data: UserFields, directory: DirectoryStore) -> User:
    """A new user with the next free id (422 when the email or external id is taken, or the
    team does not exist)."""
    now = utc_now()
    user = User(tenant_id=tenant_id, id=0, **data.model_dump(), created_at=now, updated_at=now)
    with _user_refusals():
        return directory.insert_new_user(user)


def change_user(
    tenant_id: str, user_id: int, change: Callable[[User], User], directory: DirectoryStore
) -> User:
    """Read the user, apply ``change``, write it if anything changed (no lost update: a
    concurrent change is read again and ``change`` applied to it)."""

    def write(current: User, updated: User) -> None:
        with _user_refusals():
            directory.replace_user(current, updated)

    return _changed(lambda: get_user(tenant_id, user_id, directory), change, write, "user")


def replace_user(
    tenant_id: str, user_id: int, data: UserFields, directory: DirectoryStore, acting_user: int | None = None
) -> User:
    """``PUT /users/{id}``: every field as given. An admin cannot deactivate themselves."""
    if acting_user == user_id and not data.active:
        raise Conflict(OWN_ACCOUNT)

    def change(user: User) -> User:
        values = data.model_dump()
        if values["active"]:
            values["scim_deleted"] = False
        return user.model_copy(update=values)

    return change_user(tenant_id, user_id, change, directory)


def deactivate_user(
    tenant_id: str,
    user_id: int,
    directory: DirectoryStore,
    acting_user: int | None = None,
    *,
    scim_deleted: bool = False,
) -> User:
    """``DELETE /users/{id}``: the user stays (their leads keep them), inactive. SCIM's DELETE
    also marks them ``scim_deleted`` (in the same write): gone for SCIM from then on."""
    if acting_user == user_id:
        raise Conflict(OWN_ACCOUNT)
    update: dict[str, bool] = {"active": False}
    if scim_deleted:
        update["scim_deleted"] = True
    return change_user(tenant_id, user_id, lambda user: user.model_copy(update=update), directory)


def check_assignable(user: User | None, wanted: int | None, field: str = "assigned_to") -> None:
    """A lead or task may be newly assigned only to an active user of the tenant (422)."""
    if wanted is not None and (user is None or not user.active):
        raise ValidationFailed.selected(field)


# ------------------------------------------------------------------ teams
def get_team(tenant_id: str, team_id: int, directory: DirectoryStore) -> Team:
    team = directory.team(tenant_id, team_id)
    if team is None:
        raise NotFound("Team")
    return team


def member_counts(users: list[User]) -> dict[int, int]:
    """Active members per team id."""
    counts: dict[int, int] = {}
    for user in users:
        if user.active and user.team_id is not None:
            counts[user.team_id] = counts.get(user.team_id, 0) + 1
    return counts


def list_teams(tenant_id: str, directory: DirectoryStore) -> list[Team]:
    return sorted(directory.teams(tenant_id), key=lambda team: (team.name.casefold(), team.id))


def create_team(
    tenant_id: str, data: TeamFields, directory: DirectoryStore, external_id: str | None = None
) -> Team:
    now = utc_now()
    team = Team(
        tenant_id=tenant_id, id=0, name=data.name, external_id=external_id, created_at=now, updated_at=now
    )
    return directory.insert_new_team(team)


def change_team(
    tenant_id: str, team_id: int, change: Callable[[Team], Team], directory: DirectoryStore
) -> Team:
    return _changed(lambda: get_team(tenant_id, team_id, directory), change, directory.replace_team, "team")


def rename_team(tenant_id: str, team_id: int, data: TeamFields, directory: DirectoryStore) -> Team:
    return change_team(
        tenant_id, team_id, lambda team: team.model_copy(update={"name": data.name}), directory
    )


def delete_team(tenant_id: str, team_id: int, directory: DirectoryStore) -> None:
    """409 while an active user is in the team (deactivated users keep their last team id)."""

    def attempt() -> None:
        team = get_team(tenant_id, team_id, directory)
        members = member_counts(directory.users(tenant_id)).get(team_id, 0)
        if members:
            raise Conflict(f"The team has {members} active member(s): move them to another team first.")
        directory.delete_team(team)

    without_lost_updates(attempt, None, "team")


# ------------------------------------------------------------------ deal stages
def stages_of(tenant_id: str, directory: DirectoryStore) -> list[DealStage]:
    """The tenant's deal stages by position. A tenant that never had any gets the default
    pipeline first, once, even when several first calls race."""
    stages = directory.stages(tenant_id)
    if stages:
        return stages
    default = [
        DealStage(tenant_id=tenant_id, id=0, name=name, position=position, probability=probability, kind=kind)
        for position, (name, probability, kind) in enumerate(DEFAULT_PIPELINE, start=1)
    ]
    directory.create_pipeline(tenant_id, default)
    return directory.stages(tenant_id)


def get_stage(tenant_id: str, stage_id: int, directory: DirectoryStore) -> DealStage:
    stage = directory.stage(tenant_id, stage_id)
    if stage is None:
        raise NotFound("Deal stage")
    return stage


def create_stage(tenant_id: str, data: StageFields, directory: DirectoryStore) -> DealStage:
    return directory.insert_new_stage(DealStage(tenant_id=tenant_id, id=0, **data.model_dump()))


def replace_stage(tenant_id: str, stage_id: int, data: StageFields, directory: DirectoryStore) -> DealStage:
    def attempt() -> DealStage:
        current = get_stage(tenant_id, stage_id, directory)
        updated = current.model_copy(update=data.model_dump())
        if updated == current:
            return current
        updated = next_version(current, updated)
        directory.replace_stage(current, updated)
        return updated

    return without_lost_updates(attempt, None, "deal stage")


def delete_stage(tenant_id: str, stage_id: int, directory: DirectoryStore) -> None:
    """409 while a deal is in the stage."""

    def attempt() -> None:
        stage = get_stage(tenant_id, stage_id, directory)
        try:
            directory.delete_stage(stage)
        except StageInUse:
            raise Conflict("Deals are in this stage: it cannot be deleted.") from None

    without_lost_updates(attempt, None, "deal stage")
