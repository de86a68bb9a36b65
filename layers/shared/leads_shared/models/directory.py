"""The tenant's directory: users, teams and deal stages. Stored records, request bodies and
response shapes (responses never carry ``tenant_id``, ``version`` or key attributes)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from leads_shared.models.common import (
    MAX_USER_ID,
    BlankMeans,
    EmailText,
    Model,
    RequiredName,
    checked_email,
    integer_id,
)

Role = Literal["admin", "user"]
StageKind = Literal["open", "won", "lost"]
# The identity provider's subject of a user (a JWT's `sub`, SCIM's externalId): any string.
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
RequiredEmail = Annotated[EmailText, BeforeValidator(checked_email)]
TeamId = Annotated[
    Annotated[int, Field(ge=1, le=MAX_USER_ID)] | None,
    BeforeValidator(integer_id),
    Field(description="The user's team (a team of the tenant), or null."),
]
# Largest number of users/teams/stages returned by one list request.
MAX_PER_PAGE = 500


# ------------------------------------------------------------------ stored records
class User(Model):
    tenant_id: str
    id: int
    name: str
    email: str | None = None
    role: Role = "user"
    team_id: int | None = None
    active: bool = True
    external_id: str | None = None
    # SCIM deleted it: deactivated here, and gone for SCIM (RFC 7644 §3.6).
    scim_deleted: bool = False
    created_at: str | None = None
    updated_at: str | None = None
    version: int = 1


class Team(Model):
    tenant_id: str
    id: int
    name: str
    external_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    version: int = 1


class DealStage(Model):
    tenant_id: str
    id: int
    name: str
    position: int
    probability: int | None = None
    kind: StageKind = "open"
    version: int = 1


# ------------------------------------------------------------------ request bodies
class UserFields(Model):
    """``POST /users`` and ``PUT /users/{id}`` (PUT replaces every field; omitted optional ones
    take their defaults)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Dana Diaz", "email": "dana@acme.com", "role": "user", "team_id": 1}]
        }
    )

    name: RequiredName
    email: RequiredEmail = Field(description="Unique in the tenant (any case).")
    role: Role = "user"
    team_id: TeamId = None
    active: StrictBool = True
    external_id: Annotated[ExternalId | None, BlankMeans(None)] = Field(
        default=None,
        description="The identity provider's subject (the `sub` of this user's tokens), unique in the "
        "tenant. A token with this subject is this user.",
    )


class TeamFields(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Inbound"}]})

    name: RequiredName


class StageFields(Model):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Negotiation", "position": 3, "probability": 60, "kind": "open"}]
        }
    )

    name: RequiredName
    position: Annotated[Annotated[int, Field(ge=1, le=1000)], BeforeValidator(integer_id)] = Field(
        description="Order in the pipeline (ties by id)."
    )
    probability: Annotated[Annotated[int, Field(ge=0, le=100)] | None, BeforeValidator(integer_id)] = Field(
        default=None, description="Win probability, percent."
    )
    kind: StageKind = Field(default="open", description="`won` and `lost` stages close a deal.")


# ------------------------------------------------------------------ responses
class UserOut(Model):
    id: int
    name: str
    email: str | None
    role: Role
    team_id: int | None
    team_name: str | None = None
    active: bool
    external_id: str | None
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, user: User, team_names: dict[int, str] | None = None) -> UserOut:
        values: dict[str, Any] = user.model_dump(exclude={"tenant_id", "version", "scim_deleted"})
        values["team_name"] = (team_names or {}).get(user.team_id) if user.team_id else None
        return cls(**values)


class UserList(Model):
    data: list[UserOut]
    total: int


class TeamOut(Model):
    id: int
    name: str
    members: int = Field(description="Active users in the team.")
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, team: Team, members: int) -> TeamOut:
        return cls(
            id=team.id,
            name=team.name,
            members=members,
            created_at=team.created_at,
            updated_at=team.updated_at,
        )


class TeamList(Model):
    data: list[TeamOut]


class StageOut(Model):
    id: int
    name: str
    position: int
    probability: int | None
    kind: StageKind

    @classmethod
    def of(cls, stage: DealStage) -> StageOut:
        return cls(**stage.model_dump(exclude={"tenant_id", "version"}))


class StageList(Model):
    data: list[StageOut]


class TenantRef(Model):
    id: str
    name: str


class Me(Model):
    user: UserOut
    tenant: TenantRef
    inbound_address: str | None = Field(
        description="The tenant's drop-box: mail sent or BCC'd there is linked to leads (null when "
        "the deployment has no inbound domain)."
    )
