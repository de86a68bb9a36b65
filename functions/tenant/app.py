"""The caller's tenant: its settings, its drop-box address, its SCIM token, and erasures on
request (admins only). Routes only; the rules live in the layer (``tenants``, ``erasure``).

Erasure lives here rather than in a function of its own: it is an admin's act on the whole tenant
like the others here, and one more function would be one more cold start, log group and alarm
set for two routes."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from pydantic import Field, StringConstraints

from leads_shared import erasure, scim_tokens, tenants
from leads_shared.api import (
    BODY_ERRORS,
    admin_only,
    caller,
    cors,
    entry_point,
    require_object_body,
    responses,
    use_api_conventions,
)
from leads_shared.clock import utc_now
from leads_shared.config import get_settings
from leads_shared.data import (
    get_blob_store,
    get_erasure_store,
    get_lead_store,
    get_mail_store,
    get_scim_token_store,
    get_tenant_store,
    get_trash_store,
)
from leads_shared.data.idempotency import HEADER as IDEMPOTENCY_HEADER
from leads_shared.models.common import BlankMeans, IdempotencyKeyText
from leads_shared.models.privacy import ErasureReceiptOut, ErasureReceiptPage, ErasureRequest
from leads_shared.models.tenant import (
    InboundAddressRotation,
    ScimTokenOut,
    TenantOut,
    TenantSettings,
    TenantUpdate,
)
from leads_shared.observability import logger, metrics, tracer

app = APIGatewayRestResolver(enable_validation=True, cors=cors())
use_api_conventions(app)
TAGS = ["Tenant"]
PRIVACY_TAGS = ["Privacy"]

IfMatch = Annotated[
    str | None,
    BlankMeans(None),
    Header(
        alias="If-Match",
        description='The settings\' ETag (`"3"`, `W/"3"` or `3`): the write fails with 412 if they changed.',
    ),
]


def _tenant_response(settings: TenantSettings) -> Response[TenantOut]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=tenants.described(settings, get_settings().inbound_domain),
        headers={"ETag": settings.etag},
    )


@app.get(
    "/tenant",
    summary="Get the tenant's settings",
    tags=TAGS,
    description="Admin only. The caller's tenant with its drop-box address (made with their defaults "
    "on first use: the name is the tenant id, the currency USD).",
    responses=responses((200, TenantOut, "The settings (ETag: their version)."), 403),
    middlewares=[admin_only],
)
@tracer.capture_method
def get_tenant() -> Response[TenantOut]:
    return _tenant_response(tenants.settings_of(caller(app).tenant_id, get_tenant_store()))


@app.put(
    "/tenant",
    summary="Update the tenant's settings",
    tags=TAGS,
    description="Admin only. Fields left out keep their value; the drop-box address changes only "
    "through `POST /tenant/inbound-address`.",
    responses=responses(
        (200, TenantOut, "The updated settings (ETag: their new version)."), *BODY_ERRORS, 403, 409, 412
    ),
    middlewares=[admin_only],
)
@tracer.capture_method
def update_tenant(body: Annotated[TenantUpdate, Body()], if_match: IfMatch = None) -> Response[TenantOut]:
    require_object_body(app)  # every field is optional: Powertools reads some arrays as objects
    settings = tenants.update_settings(caller(app), body, get_tenant_store(), if_match=if_match)
    return _tenant_response(settings)


@app.post(
    "/tenant/inbound-address",
    summary="Rotate the drop-box address",
    tags=TAGS,
    description="Admin only. Gives the tenant a new drop-box address at once: mail sent to the old "
    "one from then on is not linked (it is recorded as rejected, `rotated`). No fields: the body "
    "may be left out.",
    responses=responses((200, TenantOut, "The settings with the new address."), *BODY_ERRORS, 403, 409),
    middlewares=[admin_only],
)
@tracer.capture_method
def rotate_inbound_address(
    body: Annotated[InboundAddressRotation | None, Body()] = None,
) -> Response[TenantOut]:
    require_object_body(app)
    principal = caller(app)
    settings = tenants.rotate_inbound_token(principal, get_tenant_store())
    logger.info("drop-box address rotated", extra={"tenant_id": principal.tenant_id})
    metrics.add_metric(name="InboundAddressRotated", unit="Count", value=1)
    return _tenant_response(settings)


@app.post(
    "/tenant/scim-token",
    summary="Issue the tenant's SCIM token",
    description="The bearer token an identity provider (Okta, Entra ID) sends to `/scim/v2`. It is "
    "shown once (only its hash is kept); issuing a new one revokes the previous one.",
    tags=TAGS,
    middlewares=[admin_only],
    responses=responses((201, ScimTokenOut, "The new token."), 403, 409),
)
@tracer.capture_method
def issue_scim_token() -> Response[ScimTokenOut]:
    tenant_id = caller(app).tenant_id
    created_at = utc_now()
    token = scim_tokens.issue(tenant_id, get_scim_token_store(), created_at)
    logger.info("scim token issued")
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=ScimTokenOut(token=token, created_at=created_at),
    )


ERASURE_KEY = (
    "Any unique string (a UUID): a retry with the same key and address resumes the same erasure (one "
    "that stopped half-way finishes) or answers its receipt."
)
ErasureKey = Annotated[
    IdempotencyKeyText | None, BlankMeans(None), Header(alias=IDEMPOTENCY_HEADER, description=ERASURE_KEY)
]
ReceiptsPageSize = Annotated[
    Annotated[int, Field(ge=1, le=100)], BlankMeans(25), Query(description="Page size.")
]
ReceiptsCursor = Annotated[
    Annotated[str, StringConstraints(max_length=2048)] | None,
    BlankMeans(None),
    Query(
        description="The `next_cursor` of the page before: the page right after it (altered or expired: 422)."
    ),
]


@app.post(
    "/privacy/erasure",
    summary="Erase an email address (GDPR Art. 17)",
    tags=PRIVACY_TAGS,
    description="Admin only. Removes for good every lead (live or in the recycle bin), contact, "
    "captured email and form submission of the tenant with this address (any case), and blanks it "
    "out of other leads' history values; answers the receipt, which is kept without the address. "
    "`dry_run`: what would go, nothing written. Nothing found: zero counts.",
    responses=responses((200, ErasureReceiptOut, "The receipt."), *BODY_ERRORS, 403),
    middlewares=[admin_only],
)
@tracer.capture_method
def request_erasure(
    body: Annotated[ErasureRequest, Body()], idempotency_key: ErasureKey = None
) -> ErasureReceiptOut:
    stores = erasure.ErasureStores(
        get_erasure_store(), get_lead_store(), get_trash_store(), get_mail_store(), get_blob_store()
    )
    receipt = erasure.erase(caller(app), body, idempotency_key, stores)
    counts = receipt.erased.counts()
    logger.info(
        "erasure",
        extra={"erasure_id": receipt.erasure_id, "status": receipt.status, **counts.model_dump()},
    )
    if receipt.status == "done":
        metrics.add_metric(name="ErasureDone", unit="Count", value=1)
    return ErasureReceiptOut.of(receipt)


@app.get(
    "/privacy/erasures",
    summary="List erasure receipts",
    tags=PRIVACY_TAGS,
    description="Admin only. The tenant's erasures, newest first: who asked, when, and what went (no "
    "addresses).",
    responses=responses((200, ErasureReceiptPage, "A page of receipts."), 403),
    middlewares=[admin_only],
)
@tracer.capture_method
def list_erasures(limit: ReceiptsPageSize = 25, cursor: ReceiptsCursor = None) -> ErasureReceiptPage:
    listing = erasure.list_receipts(caller(app), limit, cursor, get_erasure_store(), get_settings())
    return ErasureReceiptPage(
        data=[ErasureReceiptOut.of(receipt) for receipt in listing.receipts], next_cursor=listing.next_cursor
    )


lambda_handler = entry_point(app)
