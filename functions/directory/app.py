"""The tenant's directory: the caller (``/me``), users, teams and deal stages. Reads are for every
user (who picks owners and stages from them); writes are for admins. Routes only; the rules
live in the layer (``leads_shared.directory``)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from leads_shared import directory, tenants
from leads_shared.api import (
    BODY_ERRORS,
    RecordPathId,
    admin_only,
    caller,
    cors,
    entry_point,
    responses,
    use_api_conventions,
)
from leads_shared.config import get_settings as get_config
from leads_shared.data import get_directory_store, get_tenant_store
from leads_shared.models.common import MAX_USER_ID, BlankMeans, SearchText, SuccessBody
from leads_shared.models.directory import (
    Me,
    StageFields,
    StageList,
    StageOut,
    Team,
    TeamFields,
    TeamList,
    TeamOut,
    TenantRef,
    User,
    UserFields,
    UserList,
    UserOut,
)
from leads_shared.observability import logger, tracer

app = APIGatewayRestResolver(enable_validation=True, cors=cors())
use_api_conventions(app)

ADMIN = [admin_only]


def _created[Out: BaseModel](body: Out) -> Response[Out]:
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body)


def _user_out(user: User) -> UserOut:
    return UserOut.of(user, directory.team_names(user.tenant_id, get_directory_store()))


# ------------------------------------------------------------------ the caller
@app.get("/me", summary="The caller", tags=["Directory"], responses=responses((200, Me, "The caller.")))
@tracer.capture_method
def me() -> Me:
    principal = caller(app)
    user = directory.get_user(principal.tenant_id, principal.user_id, get_directory_store())
    settings = tenants.settings_of(principal.tenant_id, get_tenant_store())
    inbound_domain = get_config().inbound_domain
    return Me(
        user=_user_out(user.model_copy(update={"role": principal.role})),
        tenant=TenantRef(id=principal.tenant_id, name=settings.name),
        inbound_address=tenants.dropbox_address(settings, inbound_domain) if inbound_domain else None,
    )


# ------------------------------------------------------------------ users
@app.get(
    "/users",
    summary="List users",
    tags=["Users"],
    responses=responses((200, UserList, "The tenant's users, by name.")),
)
@tracer.capture_method
def list_users(
    active: Annotated[
        bool | None, BlankMeans(None), Query(description="Only active (or inactive) users.")
    ] = None,
    team_id: Annotated[
        Annotated[int, Field(ge=1, le=MAX_USER_ID)] | None,
        BlankMeans(None),
        Query(description="Only this team."),
    ] = None,
    search: Annotated[SearchText | None, Query(description="Part of the name or email, any case.")] = None,
) -> UserList:
    tenant_id = caller(app).tenant_id
    store = get_directory_store()
    users = directory.list_users(tenant_id, store, active=active, team_id=team_id, search=search)
    names = directory.team_names(tenant_id, store)
    return UserList(data=[UserOut.of(user, names) for user in users], total=len(users))


@app.get(
    "/users/<id>", summary="Get user", tags=["Users"], responses=responses((200, UserOut, "The user."), 404)
)
@tracer.capture_method
def get_user(id: RecordPathId) -> UserOut:
    return _user_out(directory.get_user(caller(app).tenant_id, id, get_directory_store()))


@app.post(
    "/users",
    summary="Create user",
    tags=["Users"],
    middlewares=ADMIN,
    responses=responses((201, UserOut, "The new user."), 403, *BODY_ERRORS),
)
@tracer.capture_method
def create_user(data: UserFields) -> Response[UserOut]:
    user = directory.create_user(caller(app).tenant_id, data, get_directory_store())
    logger.info("user created", extra={"user_id": user.id})
    return _created(_user_out(user))


@app.put(
    "/users/<id>",
    summary="Replace user",
    tags=["Users"],
    middlewares=ADMIN,
    responses=responses((200, UserOut, "The user."), 403, 404, 409, *BODY_ERRORS),
)
@tracer.capture_method
def replace_user(id: RecordPathId, data: UserFields) -> UserOut:
    principal = caller(app)
    user = directory.replace_user(principal.tenant_id, id, data, get_directory_store(), principal.user_id)
    return _user_out(user)


@app.delete(
    "/users/<id>",
    summary="Deactivate user",
    description="Users are never removed (leads, notes and tasks keep pointing at them): this "
    "deactivates the user. Their tokens get 403 within a minute, they cannot be newly assigned, "
    "and the leads they own keep them. `PUT` with `active: true` reactivates.",
    tags=["Users"],
    middlewares=ADMIN,
    responses=responses((200, UserOut, "The deactivated user."), 403, 404, 409),
)
@tracer.capture_method
def deactivate_user(id: RecordPathId) -> UserOut:
    principal = caller(app)
    user = directory.deactivate_user(principal.tenant_id, id, get_directory_store(), principal.user_id)
    return _user_out(user)


# ------------------------------------------------------------------ teams
def _team_out(team: Team) -> TeamOut:
    users = get_directory_store().users(team.tenant_id)
    return TeamOut.of(team, directory.member_counts(users).get(team.id, 0))


@app.get(
    "/teams", summary="List teams", tags=["Teams"], responses=responses((200, TeamList, "Teams by name."))
)
@tracer.capture_method
def list_teams() -> TeamList:
    tenant_id = caller(app).tenant_id
    store = get_directory_store()
    counts = directory.member_counts(store.users(tenant_id))
    teams = directory.list_teams(tenant_id, store)
    return TeamList(data=[TeamOut.of(team, counts.get(team.id, 0)) for team in teams])


@app.get(
    "/teams/<id>", summary="Get team", tags=["Teams"], responses=responses((200, TeamOut, "The team."), 404)
)
@tracer.capture_method
def get_team(id: RecordPathId) -> TeamOut:
    return _team_out(directory.get_team(caller(app).tenant_id, id, get_directory_store()))


@app.post(
    "/teams",
    summary="Create team",
    tags=["Teams"],
    middlewares=ADMIN,
    responses=responses((201, TeamOut, "The new team."), 403, *BODY_ERRORS),
)
@tracer.capture_method
def create_team(data: TeamFields) -> Response[TeamOut]:
    team = directory.create_team(caller(app).tenant_id, data, get_directory_store())
    return _created(TeamOut.of(team, 0))


@app.put(
    "/teams/<id>",
    summary="Rename team",
    tags=["Teams"],
    middlewares=ADMIN,
    responses=responses((200, TeamOut, "The team."), 403, 404, 409, *BODY_ERRORS),
)
@tracer.capture_method
def rename_team(id: RecordPathId, data: TeamFields) -> TeamOut:
    return _team_out(directory.rename_team(caller(app).tenant_id, id, data, get_directory_store()))


@app.delete(
    "/teams/<id>",
    summary="Delete team",
    description="409 while an active user is in the team.",
    tags=["Teams"],
    middlewares=ADMIN,
    responses=responses((200, SuccessBody, "Deleted."), 403, 404, 409),
)
@tracer.capture_method
def delete_team(id: RecordPathId) -> SuccessBody:
    directory.delete_team(caller(app).tenant_id, id, get_directory_store())
    return SuccessBody()


# ------------------------------------------------------------------ deal stages
@app.get(
    "/deal-stages",
    summary="List deal stages",
    description="By position. A tenant without stages gets the default pipeline (Prospecting, "
    "Proposal, Negotiation, Closed Won, Closed Lost) on first use.",
    tags=["Deal stages"],
    responses=responses((200, StageList, "The pipeline's stages.")),
)
@tracer.capture_method
def list_stages() -> StageList:
    stages = directory.stages_of(caller(app).tenant_id, get_directory_store())
    return StageList(data=[StageOut.of(stage) for stage in stages])


@app.get(
    "/deal-stages/<id>",
    summary="Get deal stage",
    tags=["Deal stages"],
    responses=responses((200, StageOut, "The stage."), 404),
)
@tracer.capture_method
def get_stage(id: RecordPathId) -> StageOut:
    return StageOut.of(directory.get_stage(caller(app).tenant_id, id, get_directory_store()))


@app.post(
    "/deal-stages",
    summary="Create deal stage",
    tags=["Deal stages"],
    middlewares=ADMIN,
    responses=responses((201, StageOut, "The new stage."), 403, *BODY_ERRORS),
)
@tracer.capture_method
def create_stage(data: StageFields) -> Response[StageOut]:
    return _created(StageOut.of(directory.create_stage(caller(app).tenant_id, data, get_directory_store())))


@app.put(
    "/deal-stages/<id>",
    summary="Replace deal stage",
    description="Deals keep the stage name they were created with.",
    tags=["Deal stages"],
    middlewares=ADMIN,
    responses=responses((200, StageOut, "The stage."), 403, 404, 409, *BODY_ERRORS),
)
@tracer.capture_method
def replace_stage(id: RecordPathId, data: StageFields) -> StageOut:
    return StageOut.of(directory.replace_stage(caller(app).tenant_id, id, data, get_directory_store()))


@app.delete(
    "/deal-stages/<id>",
    summary="Delete deal stage",
    description="409 while a deal is in the stage.",
    tags=["Deal stages"],
    middlewares=ADMIN,
    responses=responses((200, SuccessBody, "Deleted."), 403, 404, 409),
)
@tracer.capture_method
def delete_stage(id: RecordPathId) -> SuccessBody:
    directory.delete_stage(caller(app).tenant_id, id, get_directory_store())
    return SuccessBody()


lambda_handler = entry_point(app)
