"""SCIM 2.0 provisioning (RFC 7643/7644) for identity providers (Okta, Entra ID): the tenant's
users and teams (SCIM Groups), under ``/scim/v2``, with the tenant's SCIM token only. Routes
only; the mapping to the directory lives in the layer (``leads_shared.scim``), the token in
``leads_shared.scim_tokens``, SCIM's answers in ``leads_shared.scim_api``."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from scim2_models import (
    Context,
    ListResponse,
    ResourceType,
    ResponseParameters,
    Schema,
    ServiceProviderConfig,
)

from leads_shared import scim
from leads_shared.api import cors, entry_point
from leads_shared.data import get_directory_store
from leads_shared.models.scim import (
    POLICY,
    ScimGroup,
    ScimUser,
    resource_types,
    schemas,
    service_provider_config,
)
from leads_shared.observability import logger, tracer
from leads_shared.scim_api import (
    SCIM_TAG,
    SECURITY,
    base_url,
    created,
    no_content,
    scim_answer,
    scim_responses,
    scim_tenant,
    use_scim_conventions,
)

app = APIGatewayRestResolver(enable_validation=True, cors=cors())
use_scim_conventions(app)

TAGS = [SCIM_TAG]
ScimId = Annotated[str, Path(max_length=255, description="The resource's id (ours: an integer).")]
Filter = Annotated[
    str | None,
    Query(
        max_length=2000,
        description='A SCIM filter (RFC 7644 §3.4.2.2), e.g. `userName eq "ada@example.com"`. Any '
        "operator on the attributes of `/Schemas`; others are 400 invalidFilter.",
    ),
]
StartIndex = Annotated[
    int | None, Query(alias="startIndex", description="1-based index of the first result.")
]
Count = Annotated[int | None, Query(description="Results per page (at most 200).")]
Attributes = Annotated[
    str | None, Query(max_length=2000, description="Only these attributes (comma-separated).")
]
Excluded = Annotated[
    str | None,
    Query(alias="excludedAttributes", max_length=2000, description="All but these attributes."),
]


def _parameters(
    model: type[ScimUser] | type[ScimGroup], attributes: str | None, excluded: str | None
) -> ResponseParameters[Any] | None:
    if attributes is None and excluded is None:
        return None
    given = {"attributes": attributes, "excludedAttributes": excluded}
    parameters: Any = ResponseParameters[model]  # type: ignore[valid-type]
    return parameters.model_validate(  # type: ignore[no-any-return]
        {name: value for name, value in given.items() if value is not None}, scim_policy=POLICY
    )


# ------------------------------------------------------------------ discovery
@app.get(
    "/scim/v2/ServiceProviderConfig",
    summary="SCIM service provider configuration",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, ServiceProviderConfig, "What this SCIM service supports.")),
)
@tracer.capture_method
def service_provider() -> Response[str]:
    scim_tenant(app)
    config = service_provider_config()
    return scim_answer(200, config.model_copy(update={"meta": scim.config_meta(base_url(app))}))


@app.get(
    "/scim/v2/ResourceTypes",
    summary="SCIM resource types",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, ListResponse[ResourceType], "User and Group.")),
)
@tracer.capture_method
def list_resource_types() -> Response[str]:
    found = scim.discovery_list(resource_types(), base_url(app), "ResourceTypes", "ResourceType")
    return scim_answer(200, found)


@app.get(
    "/scim/v2/ResourceTypes/<id>",
    summary="SCIM resource type",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, ResourceType, "The resource type."), 404),
)
@tracer.capture_method
def get_resource_type(id: ScimId) -> Response[str]:
    found = scim.discovery_item(resource_types(), id, base_url(app), "ResourceTypes", "ResourceType")
    return scim_answer(200, found)


@app.get(
    "/scim/v2/Schemas",
    summary="SCIM schemas",
    description="The attributes we keep of a User and a Group (others are accepted and dropped).",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, ListResponse[Schema], "The schemas.")),
)
@tracer.capture_method
def list_schemas() -> Response[str]:
    return scim_answer(200, scim.discovery_list(schemas(), base_url(app), "Schemas", "Schema"))


@app.get(
    "/scim/v2/Schemas/<id>",
    summary="SCIM schema",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, Schema, "The schema."), 404),
)
@tracer.capture_method
def get_schema(id: ScimId) -> Response[str]:
    return scim_answer(200, scim.discovery_item(schemas(), id, base_url(app), "Schemas", "Schema"))


# ------------------------------------------------------------------ users
@app.get(
    "/scim/v2/Users",
    summary="SCIM list users",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, ListResponse[ScimUser], "The users the filter matches, by id.")),
)
@tracer.capture_method
def list_users(
    filter: Filter = None,
    start_index: StartIndex = None,
    count: Count = None,
    attributes: Attributes = None,
    excluded_attributes: Excluded = None,
) -> Response[str]:
    query = scim.search_request(
        ScimUser,
        filter=filter,
        startIndex=start_index,
        count=count,
        attributes=attributes,
        excludedAttributes=excluded_attributes,
    )
    found = scim.list_users(scim_tenant(app), query, get_directory_store(), base_url(app))
    return scim_answer(200, found, parameters=query)


@app.post(
    "/scim/v2/Users",
    summary="SCIM create user",
    description="A `userName` that SCIM deleted earlier brings that user back (same id, same leads).",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((201, ScimUser, "The new user (Location: its URL)."), 409, 413),
)
@tracer.capture_method
def create_user() -> Response[str]:
    tenant_id = scim_tenant(app)
    resource = scim.read_resource(ScimUser, app.current_event.body, Context.RESOURCE_CREATION_REQUEST)
    user = scim.create_user(tenant_id, resource, get_directory_store(), base_url(app))
    logger.info("scim user created", extra={"user_id": user.id})
    return created(user)


@app.get(
    "/scim/v2/Users/<id>",
    summary="SCIM get user",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, ScimUser, "The user."), 404),
)
@tracer.capture_method
def get_user(
    id: ScimId, attributes: Attributes = None, excluded_attributes: Excluded = None
) -> Response[str]:
    parameters = _parameters(ScimUser, attributes, excluded_attributes)
    user = scim.get_user(scim_tenant(app), id, get_directory_store(), base_url(app))
    return scim_answer(200, user, parameters=parameters)


@app.put(
    "/scim/v2/Users/<id>",
    summary="SCIM replace user",
    description="Without `active` or `externalId`, those stay as they are. The role and team stay.",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, ScimUser, "The user."), 404, 409, 413),
)
@tracer.capture_method
def replace_user(id: ScimId) -> Response[str]:
    tenant_id = scim_tenant(app)
    resource = scim.read_resource(ScimUser, app.current_event.body, Context.RESOURCE_REPLACEMENT_REQUEST)
    user = scim.replace_user(tenant_id, id, resource, get_directory_store(), base_url(app))
    return scim_answer(200, user, Context.RESOURCE_REPLACEMENT_RESPONSE)


@app.patch(
    "/scim/v2/Users/<id>",
    summary="SCIM patch user",
    description='add / replace / remove, with or without `path` (`"active": false` deactivates: the '
    "user's tokens get 403 within a minute).",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, ScimUser, "The user."), 404, 409, 413),
)
@tracer.capture_method
def patch_user(id: ScimId) -> Response[str]:
    tenant_id = scim_tenant(app)
    patch = scim.read_patch(ScimUser, app.current_event.body)
    user = scim.patch_user(tenant_id, id, patch, get_directory_store(), base_url(app))
    return scim_answer(200, user, Context.RESOURCE_PATCH_RESPONSE)


@app.delete(
    "/scim/v2/Users/<id>",
    summary="SCIM delete user",
    description="Deactivates the user (their leads keep them) and hides them from SCIM (404 from then on).",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((204, None, "Deleted."), 404),
)
@tracer.capture_method
def delete_user(id: ScimId) -> Response[str]:
    scim.delete_user(scim_tenant(app), id, get_directory_store())
    logger.info("scim user deleted", extra={"user_id": id})
    return no_content()


# ------------------------------------------------------------------ groups (teams)
@app.get(
    "/scim/v2/Groups",
    summary="SCIM list groups",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, ListResponse[ScimGroup], "The teams the filter matches, by id.")),
)
@tracer.capture_method
def list_groups(
    filter: Filter = None,
    start_index: StartIndex = None,
    count: Count = None,
    attributes: Attributes = None,
    excluded_attributes: Excluded = None,
) -> Response[str]:
    query = scim.search_request(
        ScimGroup,
        filter=filter,
        startIndex=start_index,
        count=count,
        attributes=attributes,
        excludedAttributes=excluded_attributes,
    )
    found = scim.list_groups(scim_tenant(app), query, get_directory_store(), base_url(app))
    return scim_answer(200, found, parameters=query)


@app.post(
    "/scim/v2/Groups",
    summary="SCIM create group",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((201, ScimGroup, "The new team (Location: its URL)."), 413),
)
@tracer.capture_method
def create_group() -> Response[str]:
    tenant_id = scim_tenant(app)
    resource = scim.read_resource(ScimGroup, app.current_event.body, Context.RESOURCE_CREATION_REQUEST)
    return created(scim.create_group(tenant_id, resource, get_directory_store(), base_url(app)))


@app.get(
    "/scim/v2/Groups/<id>",
    summary="SCIM get group",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, ScimGroup, "The team and its active members."), 404),
)
@tracer.capture_method
def get_group(
    id: ScimId, attributes: Attributes = None, excluded_attributes: Excluded = None
) -> Response[str]:
    parameters = _parameters(ScimGroup, attributes, excluded_attributes)
    group = scim.get_group(scim_tenant(app), id, get_directory_store(), base_url(app))
    return scim_answer(200, group, parameters=parameters)


@app.put(
    "/scim/v2/Groups/<id>",
    summary="SCIM replace group",
    description="Its members are exactly the given users (each moves into this team).",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, ScimGroup, "The team."), 404, 413),
)
@tracer.capture_method
def replace_group(id: ScimId) -> Response[str]:
    tenant_id = scim_tenant(app)
    resource = scim.read_resource(ScimGroup, app.current_event.body, Context.RESOURCE_REPLACEMENT_REQUEST)
    group = scim.replace_group(tenant_id, id, resource, get_directory_store(), base_url(app))
    return scim_answer(200, group, Context.RESOURCE_REPLACEMENT_RESPONSE)


@app.patch(
    "/scim/v2/Groups/<id>",
    summary="SCIM patch group",
    description="Adding a member moves the user into this team (a user is in at most one team); "
    "removing one leaves them in none.",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((200, ScimGroup, "The team."), 404, 413),
)
@tracer.capture_method
def patch_group(id: ScimId) -> Response[str]:
    tenant_id = scim_tenant(app)
    patch = scim.read_patch(ScimGroup, app.current_event.body)
    group = scim.patch_group(tenant_id, id, patch, get_directory_store(), base_url(app))
    return scim_answer(200, group, Context.RESOURCE_PATCH_RESPONSE)


@app.delete(
    "/scim/v2/Groups/<id>",
    summary="SCIM delete group",
    description="Deletes the team; its members are moved out of it first (they stay users).",
    tags=TAGS,
    security=SECURITY,
    responses=scim_responses((204, None, "Deleted."), 404, 409),
)
@tracer.capture_method
def delete_group(id: ScimId) -> Response[str]:
    scim.delete_group(scim_tenant(app), id, get_directory_store())
    return no_content()


lambda_handler = entry_point(app)
