"""The SCIM 2.0 resources we serve (RFC 7643), as scim2-models resources: User and Group with the
attributes our directory keeps, and nothing else. Their schemas (``/Schemas``) are generated from
these classes, so what we publish is what we read and write.

What an identity provider sends beyond them (``title``, ``phoneNumbers``, the enterprise
extension, a password...) is accepted and dropped (``POLICY``): Okta and Entra ID send what their
own attribute mappings hold, whatever a service publishes.
"""

from __future__ import annotations

from typing import Annotated, Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Filter,
    GroupMember,
    GroupMembership,
    Mutability,
    Pagination,
    Patch,
    Required,
    Resource,
    ResourceType,
    Schema,
    ScimPolicy,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)
from scim2_models.urn import URN

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
MEDIA_TYPE = "application/scim+json"
# Largest page of a list (`count` above it is cut to it) and the page size without `count`.
MAX_RESULTS = 200

# How strictly requests are read: the attributes we do not keep are dropped rather than refused;
# a PATCH `remove` may carry a value that says what to remove, and a path filter that matches no
# value adds one (`emails[type eq "work"].value`): both as Microsoft Entra ID sends them.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)


class PersonName(ComplexAttribute):
    """Our user has one name: ``formatted`` is it; ``givenName`` and ``familyName`` are it split at
    its first space (written, they are joined with one)."""

    formatted: str | None = None
    family_name: str | None = None
    given_name: str | None = None


class UserEmail(ComplexAttribute):
    value: str | None = None
    type: str | None = None
    primary: bool | None = None


class UserRole(ComplexAttribute):
    """The user's role here (``admin`` or ``user``): set in the API, not by SCIM."""

    value: Annotated[str | None, Mutability.read_only] = None
    primary: Annotated[bool | None, Mutability.read_only] = None


class ScimUser(Resource[Any]):
    """A user of the tenant's directory. ``userName`` is the user's email (unique in the tenant,
    any case); ``externalId`` the identity provider's subject of the user's tokens."""

    __schema__ = URN(USER_SCHEMA)

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    name: PersonName | None = None
    display_name: str | None = None
    active: bool | None = None
    emails: list[UserEmail] | None = None
    groups: Annotated[list[GroupMembership] | None, Mutability.read_only] = None
    roles: Annotated[list[UserRole] | None, Mutability.read_only] = None


class ScimGroup(Resource[Any]):
    """A team of the tenant's directory. Its members are its active users; a user is in at most
    one team, so adding a member to a group moves the user out of any other."""

    __schema__ = URN(GROUP_SCHEMA)

    display_name: Annotated[str | None, Required.true] = None
    members: list[GroupMember] | None = None


RESOURCE_DESCRIPTIONS = {"User": "A user of the tenant.", "Group": "A team of the tenant."}


def resource_types() -> list[ResourceType]:
    return [
        ResourceType.from_resource(model).model_copy(update={"description": RESOURCE_DESCRIPTIONS[name]})
        for name, model in (("User", ScimUser), ("Group", ScimGroup))
    ]


def schemas() -> list[Schema]:
    """What ``/Schemas`` publishes: our two resources (named as RFC 7643 names them), then the
    schemas of the discovery resources themselves."""
    ours = [
        model.to_schema().model_copy(update={"name": name, "description": RESOURCE_DESCRIPTIONS[name]})
        for name, model in (("User", ScimUser), ("Group", ScimGroup))
    ]
    return ours + [discovery.to_schema() for discovery in (ServiceProviderConfig, ResourceType, Schema)]


def service_provider_config(documentation_uri: str | None = None) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=documentation_uri,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        pagination=Pagination(
            cursor=False,
            index=True,
            default_pagination_method=Pagination.DefaultPaginationMethod.index,
            default_page_size=MAX_RESULTS,
            max_page_size=MAX_RESULTS,
        ),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="SCIM token",
                description="`Authorization: Bearer scim_...`: the tenant's SCIM token, issued by an "
                "admin with POST /tenant/scim-token.",
                primary=True,
            )
        ],
    )


# ------------------------------------------------------------------ our own API (JSON)
