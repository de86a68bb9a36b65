"""What the SCIM function's resolver shares: the tenant's SCIM token as its only credential, SCIM's
error body for every failure (RFC 7644 §3.12), and answers in ``application/scim+json``.

The rest of the API answers in its own envelope (``leads_shared.http_errors``) and takes JWTs;
identity providers read SCIM errors, and send the tenant's SCIM token (``leads_shared.scim_tokens``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, SecurityScheme
from pydantic import TypeAdapter, ValidationError, WithJsonSchema
from scim2_models import Context, Error, ResponseParameters, SCIMException

from leads_shared import errors
from leads_shared.api import metered
from leads_shared.auth import bearer_token
from leads_shared.config import get_settings
from leads_shared.http_errors import SERVER_ERROR
from leads_shared.models.scim import MEDIA_TYPE, POLICY
from leads_shared.observability import logger
from leads_shared.validation_messages import field_errors

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

TENANT = "scim_tenant"
PREFIX = "/scim/v2"
SCIM_TAG = "SCIM"
# The OpenAPI document's name for the SCIM token, and what it is (the routes' ``security``).
SECURITY: list[dict[str, list[str]]] = [{"scimToken": []}]
SECURITY_SCHEMES: dict[str, SecurityScheme] = {"scimToken": HTTPBearer(bearerFormat="scim_ token")}
# Our own errors, as SCIM states them (the status, and the scimType where RFC 7644 has one).
STATUS_OF: dict[type[errors.DomainError], tuple[int, str | None]] = {
    errors.BadRequest: (400, "invalidSyntax"),
    errors.Unauthenticated: (401, None),
    errors.Forbidden: (403, None),
    errors.NotFound: (404, None),
    errors.Conflict: (409, None),
    errors.PayloadTooLarge: (413, None),
    errors.UnsupportedMediaType: (415, None),
    errors.ValidationFailed: (400, "invalidValue"),
    errors.StoreFailure: (500, None),
    errors.ServiceUnavailable: (503, None),
}
# A unique value of the directory that another user holds: SCIM's 409 uniqueness.
UNIQUE = {"email": "userName", "external_id": "externalId"}


# ------------------------------------------------------------------ the caller
def scim_tenant(app: APIGatewayRestResolver) -> str:
    """The tenant whose SCIM token the request carries (401 otherwise: a JWT included). The body's
    size is checked right after: nothing else runs on an oversized body."""
    tenant_id = app.context.get(TENANT)
    if tenant_id is None:
        # Imported here: the meta function reads this module for the OpenAPI document only.
        from leads_shared import scim_tokens
        from leads_shared.data import get_scim_token_store

        token = bearer_token(app.current_event.headers.get("Authorization"))
        tenant_id = scim_tokens.tenant_of(token, get_scim_token_store())
        body = app.current_event.body
        limit = get_settings().max_body_bytes
        if body is not None and len(body) > limit:
            raise errors.PayloadTooLarge(limit)
        app.append_context(**{TENANT: tenant_id})
    return str(tenant_id)


def scim_authenticated(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Global middleware: no SCIM route runs without the tenant's SCIM token."""
    scim_tenant(app)
    return next_middleware(app)


def base_url(app: APIGatewayRestResolver) -> str:
    """The SCIM base URL the caller reached (``meta.location`` and ``Location`` are absolute):
    its scheme and host, the stage on the execute-api host, then ``/scim/v2``."""
    event = app.current_event
    headers = event.headers
    scheme = (headers.get("X-Forwarded-Proto") or "https").split(",")[0].strip()
    host = event.request_context.domain_name or headers.get("Host") or "localhost"
    full = event.request_context.path or event.path
    stage = full[: len(full) - len(event.path)] if full.endswith(event.path) else ""
    return f"{scheme}://{host}{stage}{PREFIX}"


# ------------------------------------------------------------------ answers
def scim_answer(
    status: int,
    document: Any,
    context: Context = Context.RESOURCE_QUERY_RESPONSE,
    parameters: ResponseParameters[Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[str]:
    body = document.model_dump_json(scim_ctx=context, response_parameters=parameters, scim_policy=POLICY)
    return Response(status_code=status, content_type=MEDIA_TYPE, body=body, headers=dict(headers or {}))


def created(document: Any) -> Response[str]:
    """201 with the new resource and its ``Location``."""
    location = document.meta.location if document.meta else None
    return scim_answer(
        201,
        document,
        Context.RESOURCE_CREATION_RESPONSE,
        headers={"Location": location} if location else None,
    )


def no_content() -> Response[str]:
    return Response(status_code=204, content_type=MEDIA_TYPE, body="")


def error_answer(status: int, detail: str, scim_type: str | None = None) -> Response[str]:
    headers = {"WWW-Authenticate": 'Bearer realm="SCIM"'} if status == 401 else None
    return scim_answer(status, Error(status=status, scim_type=scim_type, detail=detail), headers=headers)


def domain_error_answer(error: errors.DomainError) -> Response[str]:
    status, scim_type = next(
        (answer for cls, answer in STATUS_OF.items() if isinstance(error, cls)), (500, None)
    )
    if status >= 500:
        logger.error(
            "request failed", extra={"error": type(error).__name__, "detail": error.message}, exc_info=error
        )
        return error_answer(status, SERVER_ERROR if status == 500 else error.message)
    if isinstance(error, errors.Unauthenticated):
        logger.info("unauthenticated", extra={"reason": error.reason})
    if isinstance(error, errors.ValidationFailed):
        taken = next((field for field in error.errors if field in UNIQUE), None)
        if taken is not None:
            return error_answer(409, f"The {UNIQUE[taken]} is already taken.", "uniqueness")
    return error_answer(status, error.message, scim_type)


def scim_error_answer(error: SCIMException) -> Response[str]:
    document = error.to_error()
    return scim_answer(document.status or 400, document)


def invalid_document_answer(error: ValidationError) -> Response[str]:
    """A request document scim2-models refused (invalidSyntax, invalidValue, invalidFilter...)."""
    document = Error.from_validation_errors(error)[0]
    return scim_answer(document.status or 400, document)


# ------------------------------------------------------------------ registration
def use_scim_conventions(app: APIGatewayRestResolver) -> None:
    """SCIM's error body for everything this resolver answers; every route needs the tenant's SCIM
    token, checked before anything else is said (Powertools validates parameters before any
    middleware: those answers check the token first too)."""

    def token_first(answer: Callable[[], Response[str]]) -> Response[str]:
        try:
            scim_tenant(app)
        except errors.DomainError as error:
            return domain_error_answer(error)
        return answer()

    @app.exception_handler(errors.DomainError)
    def _domain(error: errors.DomainError) -> Response[str]:
        return domain_error_answer(error)

    @app.exception_handler(SCIMException)
    def _scim(error: SCIMException) -> Response[str]:
        return scim_error_answer(error)

    @app.exception_handler(ValidationError)
    def _invalid_document(error: ValidationError) -> Response[str]:
        return invalid_document_answer(error)

    @app.exception_handler(RequestValidationError)
    def _invalid_parameter(error: RequestValidationError) -> Response[str]:
        found = field_errors(list(error.errors()))
        field, messages = next(iter(found.items()))
        return token_first(lambda: error_answer(400, f"{field}: {messages[0]}", "invalidValue"))

    @app.exception_handler(RequestUnsupportedContentType)
    def _not_json(_: RequestUnsupportedContentType) -> Response[str]:
        return token_first(lambda: error_answer(400, "The request body must be JSON.", "invalidSyntax"))

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        event = app.current_event
        if event.http_method == "POST" and event.path.endswith("/.search"):
            message = "POST /.search is not supported: list with GET and a filter."
            return token_first(lambda: error_answer(501, message))
        return token_first(lambda: error_answer(404, f"No SCIM endpoint at {event.path}."))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return token_first(lambda: error_answer(500, SERVER_ERROR))

    app.use(middlewares=[metered, scim_authenticated])
    # Each resolver's document must know the schemes its routes name (the merge reads each one).
    app.configure_openapi(security_schemes=SECURITY_SCHEMES)


# ------------------------------------------------------------------ OpenAPI answers
def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its ``$defs`` written in place (the document's components hold only
    the API's own models); a definition inside itself (a schema attribute's sub-attributes) is
    an object there."""
    definitions = schema.pop("$defs", {})

    def walk(value: Any, expanding: frozenset[str]) -> Any:
        if isinstance(value, dict):
            reference = value.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                name = reference.rsplit("/", 1)[-1]
                if name in expanding:
                    return {"type": "object"}
                return walk(dict(definitions[name]), expanding | {name})
            # the library's docstrings (RFC quotes) are left out: they repeat in every answer
            return {
                key: walk(item, expanding)
                for key, item in value.items()
                if key not in ("description", "title") or not isinstance(item, str)
            }
        if isinstance(value, list):
            return [walk(item, expanding) for item in value]
        return value

    return walk(schema, frozenset())  # type: ignore[no-any-return]


def documented(model: Any) -> Any:
    """A scim2-models class as the OpenAPI document shows its body. Its serialisation is custom
    (no schema of its own), so the document shows what it reads, which is what it writes; only
    the Error's ``status`` is a string on the wire."""
    schema = _inlined(TypeAdapter(model).json_schema(mode="validation"))
    if model is Error:
        schema["properties"]["status"] = {"type": "string", "description": "The HTTP status, as a string."}
        schema["required"] = ["schemas", "status"]
    return Annotated[dict[str, Any], WithJsonSchema(schema)]


ERROR_DESCRIPTIONS = {
    400: "Malformed document, invalid value (invalidValue), unsupported filter (invalidFilter), bad "
    "PATCH path (invalidPath, noTarget, mutability).",
    401: "No SCIM token, a revoked one, or any other credential (a JWT).",
    404: "No such resource in the token's tenant (or a user SCIM deleted).",
    409: "The userName or externalId belongs to another user (uniqueness).",
    413: "Body too large.",
    500: "Unexpected failure (logged).",
    503: "The data store is busy or unreachable; retry.",
}
COMMON_ERRORS = (400, 401, 500, 503)
NOT_SENT_422 = "Not sent: an invalid parameter is 400 invalidValue (SCIM has no 422)."


def scim_responses(success: tuple[int, Any, str], *extra_errors: int) -> dict[int, OpenAPIResponse]:
    """A SCIM route's documented answers, all in ``application/scim+json``."""
    status, model, description = success
    content: Any = {MEDIA_TYPE: {"model": documented(model)}} if model is not None else {}
    answers: dict[int, OpenAPIResponse] = {status: {"description": description, "content": content}}
    error_content: Any = {MEDIA_TYPE: {"model": documented(Error)}}
    for error in sorted({*COMMON_ERRORS, *extra_errors}):
        answers[error] = {"description": ERROR_DESCRIPTIONS[error], "content": error_content}
    # Powertools documents a 422 on every validated route; SCIM routes answer 400 instead.
    answers[422] = {"description": NOT_SENT_422, "content": error_content}
    return answers
