"""SCIM 2.0 provisioning (RFC 7643/7644) over the tenant's directory: what an identity provider's
User and Group mean to our users and teams. Every change goes through the directory's rules
(``leads_shared.directory``); this module only translates.

scim2-models reads and writes the SCIM documents, parses and evaluates filters, and applies PATCH
operations (to a SCIM representation of the user or group, which is then mapped back). What we
write ourselves, because it is about our directory:

- the mapping. ``userName`` is the user's email (so it must be an email address); ``externalId``
  the identity provider's subject, which a later JWT with that ``sub`` is found by; the name is
  ``displayName``, else ``name.formatted``, else ``name.givenName`` + ``name.familyName`` (a PATCH:
  the first of those it changed); ``emails`` is read-only in effect (``userName`` wins); ``groups``
  is the user's team; ``roles`` is the user's role, which SCIM does not change.
- the lookups: ``userName eq`` and ``externalId eq`` (what Okta and Entra ID ask before every
  create) read the uniqueness markers, one item each; any other filter reads the tenant's users
  (one Query) and lets scim2-models evaluate it.
- deletion. A user is never removed here (leads keep their owner): SCIM's DELETE deactivates it
  and marks it ``scim_deleted``, after which SCIM answers 404 for it (RFC 7644 §3.6). Creating its
  ``userName`` (or ``externalId``) again brings the same user back, leads and all, instead of a
  409 the identity provider could not resolve. A group's DELETE moves its members out first: the
  identity provider has deleted the group and has no way to empty it the way our API's 409 asks.
- membership. A user is in at most one team: adding a user to a group moves them out of any
  other; removing them leaves them in none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    GroupMember,
    GroupMembership,
    InvalidValueException,
    ListResponse,
    Meta,
    PatchOp,
    SearchRequest,
)
from scim2_models.path import AttrPath, CompareOperator, Comparison

from leads_shared import directory
from leads_shared.errors import Conflict, NotFound
from leads_shared.models.common import MAX_USER_ID
from leads_shared.models.directory import Team, TeamFields, User, UserFields
from leads_shared.models.scim import (
    MAX_RESULTS,
    POLICY,
    USER_SCHEMA,
    PersonName,
    ScimGroup,
    ScimUser,
    UserEmail,
    UserRole,
)

if TYPE_CHECKING:
    from leads_shared.data.directory_store import DirectoryStore

# Which SCIM attribute carries each of our fields (for the messages of refused values).
SCIM_NAMES = {"email": "userName", "name": "displayName", "external_id": "externalId", "active": "active"}
DELETE_ATTEMPTS = 4


# ------------------------------------------------------------------ ids and URLs
def resource_id(text: str) -> int:
    """Our integer id from a SCIM id; anything else names no resource (404)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 9) or not 1 <= int(text) <= MAX_USER_ID:
        raise NotFound("Resource")
    return int(text)


def _meta(resource_type: str, location: str, created: str | None, modified: str | None) -> Meta:
    return Meta(resource_type=resource_type, created=created, last_modified=modified, location=location)


# ------------------------------------------------------------------ representations
def _split_name(name: str) -> tuple[str, str | None]:
    given, _, family = name.strip().partition(" ")
    return given, family.strip() or None


def user_resource(user: User, teams: dict[int, str], base: str) -> ScimUser:
    given, family = _split_name(user.name)
    groups = None
    if user.active and user.team_id in teams:
        team_id = user.team_id
        groups = [
            GroupMembership(
                value=str(team_id), ref=f"{base}/Groups/{team_id}", display=teams[team_id], type="direct"
            )
        ]
    return ScimUser(
        id=str(user.id),
        external_id=user.external_id,
        meta=_meta("User", f"{base}/Users/{user.id}", user.created_at, user.updated_at),
        user_name=user.email,
        name=PersonName(formatted=user.name, given_name=given, family_name=family),
        display_name=user.name,
        active=user.active,
        emails=[UserEmail(value=user.email, type="work", primary=True)] if user.email else None,
        groups=groups,
        roles=[UserRole(value=user.role, primary=True)],
    )


def group_resource(team: Team, members: Iterable[User], base: str) -> ScimGroup:
    return ScimGroup(
        id=str(team.id),
        external_id=team.external_id,
        meta=_meta("Group", f"{base}/Groups/{team.id}", team.created_at, team.updated_at),
        display_name=team.name,
        members=[
            GroupMember(value=str(user.id), ref=f"{base}/Users/{user.id}", type="User", display=user.name)
            for user in members
        ],
    )


def _members_of(team_id: int, users: Iterable[User]) -> list[User]:
    return [user for user in users if user.active and user.team_id == team_id]


# ------------------------------------------------------------------ reading requests
def read_resource[R: (ScimUser, ScimGroup)](model: type[R], body: str | None, context: Context) -> R:
    """A User or Group document of a request (400 invalidSyntax / invalidValue otherwise)."""
    return model.model_validate_json(body or "", scim_ctx=context, scim_policy=POLICY)


def read_patch[R: (ScimUser, ScimGroup)](model: type[R], body: str | None) -> PatchOp[Any]:
    patch_model: Any = PatchOp[model]  # type: ignore[valid-type]
    return patch_model.model_validate_json(  # type: ignore[no-any-return]
        body or "", scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
    )


def search_request[R: (ScimUser, ScimGroup)](model: type[R], **parameters: Any) -> SearchRequest[Any]:
    """The query parameters of a list (400 invalidFilter for a filter naming an attribute the
    resource does not have, or that scim2-models cannot parse)."""
    given = {name: value for name, value in parameters.items() if value is not None}
    search_model: Any = SearchRequest[model]  # type: ignore[valid-type]
    return search_model.model_validate(  # type: ignore[no-any-return]
        given, scim_ctx=Context.SEARCH_REQUEST, scim_policy=POLICY
    )


def _page[R: (ScimUser, ScimGroup)](
    found: list[Any], query: SearchRequest[Any], model: type[R]
) -> ListResponse[Any]:
    start = query.start_index or 1
    count = MAX_RESULTS if query.count is None else min(query.count, MAX_RESULTS)
    page = found[start - 1 : start - 1 + count]
    list_model: Any = ListResponse[model]  # type: ignore[valid-type]
    return list_model(  # type: ignore[no-any-return]
        total_results=len(found), start_index=start, items_per_page=len(page), resources=page
    )


def _marker_lookup(query: SearchRequest[Any]) -> tuple[str, str] | None:
    """``userName eq "x"`` or ``externalId eq "x"`` alone: (attribute, value)."""
    node = query.filter.ast if query.filter is not None else None
    if not isinstance(node, Comparison) or node.op != CompareOperator.eq or not isinstance(node.value, str):
        return None
    path: AttrPath = node.attr_path
    if path.sub_attr is not None or (path.uri is not None and path.uri.lower() != USER_SCHEMA.lower()):
        return None
    attribute = path.attr.lower()
    return (attribute, node.value) if attribute in ("username", "externalid") else None


def _validated(make: Callable[[], Any]) -> Any:
    """Our own models' rules on values SCIM mapped (an invalid email, a blank name): 400."""
    try:
        return make()
    except ValidationError as invalid:
        first = invalid.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else ""
        attribute = SCIM_NAMES.get(field, field)
        message = (
            f"{attribute} must be an email address (it is the user's email here)."
            if field == "email"
            else f"{attribute}: {first['msg']}"
        )
        raise InvalidValueException(detail=message) from None


# ------------------------------------------------------------------ users
def _visible(user: User | None) -> User:
    if user is None or user.scim_deleted:
        raise NotFound("User")
    return user


def get_user(tenant_id: str, text_id: str, store: DirectoryStore, base: str) -> ScimUser:
    user = _visible(store.user(tenant_id, resource_id(text_id)))
    return user_resource(user, directory.team_names(tenant_id, store), base)


def list_users(
    tenant_id: str, query: SearchRequest[Any], store: DirectoryStore, base: str
) -> ListResponse[Any]:
    teams = directory.team_names(tenant_id, store)
    lookup = _marker_lookup(query)
    if lookup is not None:
        attribute, value = lookup
        marked = (
            store.user_with_email(tenant_id, value)
            if attribute == "username"
            else store.user_with_external_id(tenant_id, value)
        )
        users = [marked] if marked is not None else []
    else:
        users = store.users(tenant_id)
    resources = [
        user_resource(user, teams, base)
        for user in sorted(users, key=lambda u: u.id)
        if not user.scim_deleted
    ]
    found = [user for user in resources if query.filter is None or query.filter.match(user)]
    return _page(found, query, ScimUser)


def _name_candidates(resource: ScimUser) -> list[str | None]:
    name = resource.name or PersonName()
    joined = " ".join(part.strip() for part in (name.given_name, name.family_name) if part and part.strip())
    return [
        (value.strip() or None) if value else None
        for value in (resource.display_name, name.formatted, joined)
    ]


def _name(resource: ScimUser, before: ScimUser | None, current: str | None) -> str | None:
    """``displayName``, else ``name.formatted``, else given + family name; for a PATCH (``before``
    is the user as SCIM saw it), the first of those the patch changed, else the current name."""
    after = _name_candidates(resource)
    if before is None:
        return next((value for value in after if value), current)
    changed = [new for new, old in zip(after, _name_candidates(before), strict=True) if new != old and new]
    return changed[0] if changed else current


def _user_fields(resource: ScimUser, current: User | None, before: ScimUser | None) -> UserFields:
    """What a SCIM user document makes of our user (``current``: the user it replaces or
    patches; role and team stay theirs). A PUT without ``active`` or ``externalId`` leaves them."""
    email = resource.user_name
    if not email:
        raise InvalidValueException(detail="userName is required.")
    active = resource.active
    if active is None:
        active = current.active if current is not None else True
    external_id = resource.external_id
    if external_id is None and before is None and current is not None:
        external_id = current.external_id
    return _validated(  # type: ignore[no-any-return]
        lambda: UserFields(
            name=_name(resource, before, current.name if current else None) or email,
            email=email,
            role=current.role if current else "user",
            team_id=current.team_id if current else None,
            active=active,
            external_id=external_id,
        )
    )


def _apply(fields: UserFields) -> Callable[[User], User]:
    """The change that writes what SCIM manages of a user, and brings a SCIM-deleted one back."""
    values = fields.model_dump(include={"name", "email", "active", "external_id"})

    def change(user: User) -> User:
        return user.model_copy(update={**values, "scim_deleted": False})

    return change


def _deleted_owner(tenant_id: str, fields: UserFields, store: DirectoryStore) -> User | None:
    """The SCIM-deleted user that the userName (else the externalId) of a creation names."""
    for found in (
        store.user_with_email(tenant_id, fields.email),
        store.user_with_external_id(tenant_id, fields.external_id) if fields.external_id else None,
    ):
        if found is not None and found.scim_deleted:
            return found
    return None


def create_user(tenant_id: str, resource: ScimUser, store: DirectoryStore, base: str) -> ScimUser:
    """A new user (409 uniqueness when its userName or externalId is another user's), or the
    SCIM-deleted user those name, brought back with the document's values."""
    fields = _user_fields(resource, None, None)
    revived = _deleted_owner(tenant_id, fields, store)
    if revived is not None:
        user = directory.change_user(tenant_id, revived.id, _apply(fields), store)
    else:
        user = directory.create_user(tenant_id, fields, store)
    return user_resource(user, directory.team_names(tenant_id, store), base)


def replace_user(
    tenant_id: str, text_id: str, resource: ScimUser, store: DirectoryStore, base: str
) -> ScimUser:
    user_id = resource_id(text_id)
    current = _visible(store.user(tenant_id, user_id))
    fields = _user_fields(resource, current, None)
    user = directory.change_user(tenant_id, user_id, _only_visible(_apply(fields)), store)
    return user_resource(user, directory.team_names(tenant_id, store), base)


def patch_user(
    tenant_id: str, text_id: str, patch: PatchOp[Any], store: DirectoryStore, base: str
) -> ScimUser:
    user_id = resource_id(text_id)
    teams = directory.team_names(tenant_id, store)

    def change(user: User) -> User:
        before = user_resource(_visible(user), teams, base)
        after = before.model_copy(deep=True)
        patch.patch(after, scim_policy=POLICY)
        return _apply(_user_fields(after, user, before))(user)

    return user_resource(directory.change_user(tenant_id, user_id, change, store), teams, base)


def _only_visible(change: Callable[[User], User]) -> Callable[[User], User]:
    """A change that finds the user SCIM-deleted meanwhile answers 404, as a read then would."""
    return lambda user: change(_visible(user))


def delete_user(tenant_id: str, text_id: str, store: DirectoryStore) -> None:
    """Deactivate the user and hide them from SCIM (404 from now on)."""
    user_id = resource_id(text_id)
    _visible(store.user(tenant_id, user_id))
    directory.deactivate_user(tenant_id, user_id, store, scim_deleted=True)


# ------------------------------------------------------------------ groups
def _team(tenant_id: str, text_id: str, store: DirectoryStore) -> Team:
    team = store.team(tenant_id, resource_id(text_id))
    if team is None:
        raise NotFound("Group")
    return team


def get_group(tenant_id: str, text_id: str, store: DirectoryStore, base: str) -> ScimGroup:
    team = _team(tenant_id, text_id, store)
    return group_resource(team, _members_of(team.id, store.users(tenant_id)), base)


def list_groups(
    tenant_id: str, query: SearchRequest[Any], store: DirectoryStore, base: str
) -> ListResponse[Any]:
    users = store.users(tenant_id)
    teams = sorted(store.teams(tenant_id), key=lambda team: team.id)
    resources = [group_resource(team, _members_of(team.id, users), base) for team in teams]
    found = [group for group in resources if query.filter is None or query.filter.match(group)]
    return _page(found, query, ScimGroup)


def _member_ids(resource: ScimGroup, tenant_id: str, store: DirectoryStore) -> set[int]:
    """The users a group document lists (400 for anything that is not a user of the tenant)."""
    wanted: set[int] = set()
    for member in resource.members or []:
        if member.type not in (None, "User") or not member.value:
            raise InvalidValueException(
                detail="A group's members are users (nested groups are not supported)."
            )
        try:
            wanted.add(resource_id(member.value))
        except NotFound:
            raise InvalidValueException(detail=f"Member {member.value} is not a user.") from None
    known = {user.id for user in store.users(tenant_id) if not user.scim_deleted} if wanted else set()
    unknown = sorted(wanted - known)
    if unknown:
        raise InvalidValueException(detail=f"Member {unknown[0]} is not a user.")
    return wanted


def _set_members(tenant_id: str, team_id: int, wanted: set[int], store: DirectoryStore) -> None:
    """Make ``wanted`` the group's members: each moves into the team (out of any other); the
    active users of the team not wanted leave it."""
    current = {user.id for user in _members_of(team_id, store.users(tenant_id))}
    for user_id in sorted(wanted - current):
        directory.change_user(
            tenant_id, user_id, lambda user: user.model_copy(update={"team_id": team_id}), store
        )
    for user_id in sorted(current - wanted):
        directory.change_user(
            tenant_id,
            user_id,
            lambda user: user.model_copy(update={"team_id": None}) if user.team_id == team_id else user,
            store,
        )


def _team_name(resource: ScimGroup) -> TeamFields:
    return _validated(lambda: TeamFields(name=resource.display_name or ""))  # type: ignore[no-any-return]


def create_group(tenant_id: str, resource: ScimGroup, store: DirectoryStore, base: str) -> ScimGroup:
    name = _team_name(resource)
    wanted = _member_ids(resource, tenant_id, store)
    team = directory.create_team(tenant_id, name, store, external_id=resource.external_id)
    if wanted:
        _set_members(tenant_id, team.id, wanted, store)
    return get_group(tenant_id, str(team.id), store, base)


def _change_group(tenant_id: str, team: Team, resource: ScimGroup, store: DirectoryStore) -> None:
    name = _team_name(resource)
    wanted = _member_ids(resource, tenant_id, store)
    directory.change_team(
        tenant_id,
        team.id,
        lambda current: current.model_copy(update={"name": name.name, "external_id": resource.external_id}),
        store,
    )
    _set_members(tenant_id, team.id, wanted, store)


def replace_group(
    tenant_id: str, text_id: str, resource: ScimGroup, store: DirectoryStore, base: str
) -> ScimGroup:
    team = _team(tenant_id, text_id, store)
    if resource.external_id is None:  # as for a user: a PUT without externalId leaves it
        resource = resource.model_copy(update={"external_id": team.external_id})
    _change_group(tenant_id, team, resource, store)
    return get_group(tenant_id, text_id, store, base)


def patch_group(
    tenant_id: str, text_id: str, patch: PatchOp[Any], store: DirectoryStore, base: str
) -> ScimGroup:
    team = _team(tenant_id, text_id, store)
    group = group_resource(team, _members_of(team.id, store.users(tenant_id)), base)
    if patch.patch(group, scim_policy=POLICY):
        _change_group(tenant_id, team, group, store)
    return get_group(tenant_id, text_id, store, base)


def delete_group(tenant_id: str, text_id: str, store: DirectoryStore) -> None:
    """Delete the team, its members moved out of it first (a member added meanwhile: again)."""
    team = _team(tenant_id, text_id, store)
    for _ in range(DELETE_ATTEMPTS):
        _set_members(tenant_id, team.id, set(), store)
        try:
            directory.delete_team(tenant_id, team.id, store)
            return
        except Conflict:
            continue
    raise Conflict("Members keep being added to the group. Please retry.")


# ------------------------------------------------------------------ discovery
def config_meta(base: str) -> Meta:
    return Meta(resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig")


def _located(resources: list[Any], base: str, endpoint: str, resource_type: str) -> list[Any]:
    return [
        resource.model_copy(
            update={"meta": Meta(resource_type=resource_type, location=f"{base}/{endpoint}/{resource.id}")}
        )
        for resource in resources
    ]


def discovery_list(resources: list[Any], base: str, endpoint: str, resource_type: str) -> ListResponse[Any]:
    located = _located(resources, base, endpoint, resource_type)
    list_model: Any = ListResponse[type(resources[0])]  # type: ignore[misc]
    return list_model(  # type: ignore[no-any-return]
        total_results=len(located), start_index=1, items_per_page=len(located), resources=located
    )


def discovery_item(resources: list[Any], text_id: str, base: str, endpoint: str, resource_type: str) -> Any:
    for resource in _located(resources, base, endpoint, resource_type):
        if resource.id == text_id:
            return resource
    raise NotFound(resource_type)
