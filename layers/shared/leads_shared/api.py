"""What every function's resolver shares: the error mapping, the auth guard, and the entry point.

A function creates its resolver as
``app = APIGatewayRestResolver(enable_validation=True, cors=cors())``
(written out in each ``app.py``: Powertools' OpenAPI merge finds resolvers by that line), then
calls ``use_api_conventions(app)``, declares its routes, and ends with
``lambda_handler = entry_point(app)``; a route asks ``caller(app)`` for the authenticated caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from leads_shared import errors, snapstart
from leads_shared.auth import Identity, Principal, authenticate, require_admin
from leads_shared.config import get_settings
from leads_shared.errors import BadRequest, Forbidden, PayloadTooLarge, ValidationFailed
from leads_shared.http_errors import SERVER_ERROR, register_error_handlers, validation_body
from leads_shared.models.common import MAX_ID, ErrorBody, ValidationErrorBody
from leads_shared.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

IDENTITY = "identity"
PRINCIPAL = "principal"
# Path ids: integers allocated per tenant (JSON-safe range).
LeadId = Annotated[int, Path(ge=1, le=MAX_ID, description="Lead id (per tenant).")]
NoteId = Annotated[int, Path(ge=1, le=MAX_ID, description="Note id (per tenant).")]
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="Task id (per tenant).")]
EmailId = Annotated[int, Path(ge=1, le=MAX_ID, description="Email id (per tenant).")]
RecordPathId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id (per tenant).")]


# API Gateway hands a function a text body with each byte that is not UTF-8 replaced by U+FFFD:
# the character a client never means to send raw (JSON can still carry it escaped, as \ufffd).
REPLACED_BYTE = "\ufffd"
NOT_UTF8 = "The request body must be UTF-8 encoded JSON."
# The only routes that take a file as multipart/form-data (larger bodies than JSON routes).
FORM_UPLOAD_ROUTES = frozenset({"/leads/import"})


def cors() -> CORSConfig:
    """The CORS headers of every function's answers (API Gateway answers the preflight)."""
    return CORSConfig(
        allow_origin=get_settings().cors_allow_origin,
        allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
        expose_headers=["ETag", "X-Possible-Duplicates", "Link"],
        max_age=600,
    )


def token_identity(app: APIGatewayRestResolver) -> Identity:
    """What the current request's verified token says (no I/O; checked once per request). The
    body's size and encoding are checked here too, right after the token: nothing else runs on an
    oversized body, or on one that is not UTF-8."""
    identity = app.context.get(IDENTITY)
    if identity is None:
        settings = get_settings()
        body = app.current_event.body
        identity = authenticate(app.current_event.headers.get("Authorization"), settings)
        limit = stated = settings.max_body_bytes
        if is_form(app) and app.current_event.resource in FORM_UPLOAD_ROUTES:
            # a CSV file posted to the API, base64-encoded by API Gateway
            stated = settings.direct_upload_max_bytes
            limit = stated * 4 // 3 + 64 * 1024
        if body is not None and len(body) > limit:
            raise PayloadTooLarge(stated)
        if body and not app.current_event.is_base64_encoded and REPLACED_BYTE in body:
            raise BadRequest(NOT_UTF8)
        app.append_context(**{IDENTITY: identity})
    return identity


def caller(app: APIGatewayRestResolver) -> Principal:
    """The calling user of the current request: the token's identity, found in (or added to)
    the tenant's directory; 403 for a deactivated user (``leads_shared.identity``)."""
    principal = app.context.get(PRINCIPAL)
    if principal is None:
        # Imported here: the meta function uses this module and never needs boto3.
        from leads_shared.data import get_directory_store
        from leads_shared.identity import resolve

        settings = get_settings()
        identity = token_identity(app)
        principal = resolve(identity, get_directory_store(), settings.identity_cache_seconds)
        app.append_context(**{PRINCIPAL: principal})
    return principal


def api_root(app: APIGatewayRestResolver) -> str:
    """The path the caller reached the API at, before its routes (the stage, on API Gateway's
    own domain): what a link made of a route's path (``Location``, ``Link``) starts with."""
    event = app.current_event
    called = event.request_context.path or event.path
    return called.removesuffix(event.path)


def require_object_body(app: APIGatewayRestResolver) -> None:
    """For a route whose body is optional: a body, when there is one, is a JSON object. Powertools
    lets some arrays (``[null, null]``) through as "no body" there."""
    body = app.current_event.body
    if body and body.strip() and not isinstance(app.current_event.json_body, dict | None):
        raise ValidationFailed({"body": ["The request body must be a JSON object."]})


def is_form(app: APIGatewayRestResolver) -> bool:
    """A ``multipart/form-data`` request (a file upload)."""
    return (
        (app.current_event.headers.get("Content-Type") or "")
        .strip()
        .lower()
        .startswith("multipart/form-data")
    )


def metered(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Global middleware: what each request cost in DynamoDB, as a log field and as metrics."""
    # Imported here, not at the top: the meta function uses this module and never needs boto3
    # (its cold start would pay ~150 ms for it).
    from leads_shared.data.dynamo import meter

    meter.reset()
    try:
        return next_middleware(app)
    finally:  # failed requests cost too, and are the ones worth watching
        cost = meter.snapshot()
        logger.info("dynamodb usage", extra={"dynamodb": cost})
        metrics.add_metric(name="DynamoDBRequests", unit=MetricUnit.Count, value=cost["requests"])
        metrics.add_metric(name="DynamoDBItemsRead", unit=MetricUnit.Count, value=cost["items_read"])


def authenticated(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Global middleware: no route runs without a valid token. The directory is read when the
    route asks who is calling (``caller``), after the route's own middleware: a token whose role
    is ``user`` gets its 403 on an admin route without any read."""
    token_identity(app)
    return next_middleware(app)


def admin_only(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Route middleware: the caller must have the ``admin`` role (403 otherwise)."""
    if token_identity(app).role == "user":
        raise Forbidden()
    require_admin(caller(app))
    return next_middleware(app)


def use_api_conventions(
    app: APIGatewayRestResolver,
    *,
    public: bool = False,
    allowed_methods: Callable[[str], list[str]] | None = None,
) -> None:
    """Install the API's error envelope; unless ``public``, every route needs a valid token.
    ``allowed_methods(path)``: the methods the whole API serves on a path (for 405 vs 404)."""
    if public:
        register_error_handlers(app, allowed_methods=allowed_methods)
    else:

        def authenticate_first() -> None:
            token_identity(app)

        register_error_handlers(app, before_validation_errors=authenticate_first)
        app.use(middlewares=[metered, authenticated])


def entry_point(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The ``lambda_handler`` of an HTTP function: ``lambda_handler = entry_point(app)`` at the end
    of its ``app.py``. The one decorator stack (Logger with the API Gateway correlation id,
    Tracer, Metrics with a cold-start metric) around ``app.resolve``, which gets the event as
    ``as_read`` makes it (what the request's Content-Type means). Under SnapStart, the app is
    primed before the snapshot and reset after each restore (``snapstart``)."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @tracer.capture_lambda_handler
    @metrics.log_metrics(capture_cold_start_metric=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(as_read(event), context)

    snapstart.prepare(app)
    return lambda_handler


# ------------------------------------------------------------------ what a Content-Type means
JSON_MEDIA_TYPE = "application/json"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


def _looks_like_json(event: Mapping[str, Any]) -> bool:
    """A text body that starts (after whitespace) with ``{`` or ``[``: what no urlencoded form
    holds, and what ``curl -d '{...}'`` sends as a form when no Content-Type is given."""
    body = event.get("body")
    return isinstance(body, str) and not event.get("isBase64Encoded") and body.lstrip()[:1] in ("{", "[")


def _media_type_as_read(value: Any, json_body: bool) -> Any:
    """The media type (not its parameters: a multipart boundary is case-sensitive) in lower case;
    a urlencoded form whose body is JSON is JSON."""
    if not isinstance(value, str):
        return value
    media_type, separator, parameters = value.partition(";")
    media_type = media_type.strip().lower()
    if json_body and media_type == FORM_MEDIA_TYPE:
        return JSON_MEDIA_TYPE + separator + parameters
    return media_type + separator + parameters


def as_read(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event with its Content-Type as the API reads it. Powertools chooses the body's parser by
    the Content-Type compared case-sensitively, before any middleware runs; here (1) media types
    are case-insensitive (RFC 9110): ``Application/JSON`` is JSON; (2) a body that looks like JSON
    sent as ``application/x-www-form-urlencoded`` (curl's ``-d`` default) is read as JSON: such a
    body means nothing as a form, and is then validated as any JSON body."""
    changed = dict(event)
    json_body = _looks_like_json(event)
    headers, multi = event.get("headers"), event.get("multiValueHeaders")
    if isinstance(headers, dict):
        changed["headers"] = {
            name: _media_type_as_read(value, json_body) if name.lower() == "content-type" else value
            for name, value in headers.items()
        }
    if isinstance(multi, dict):
        changed["multiValueHeaders"] = {
            name: [_media_type_as_read(v, json_body) for v in values]
            if name.lower() == "content-type" and isinstance(values, list)
            else values
            for name, values in multi.items()
        }
    return changed


# ------------------------------------------------------------------ OpenAPI answers
ERROR_DESCRIPTIONS = {
    400: "Malformed request: JSON that does not parse, or a body that is not UTF-8.",
    401: "Missing, invalid or expired token.",
    403: "The caller's role may not do this.",
    404: "Not found in the caller's tenant.",
    409: "Conflicts with the resource's current state.",
    412: "If-Match does not match the current version.",
    413: "Body too large.",
    415: "The body is not JSON (Content-Type other than application/json; a urlencoded body that "
    "starts with { or [ is read as JSON).",
    422: "Validation failed.",
    429: "Too many requests: retry after the seconds the `Retry-After` header says.",
    500: "Unexpected failure (logged).",
    503: "The data store is busy or unreachable; retry.",
}
COMMON_ERRORS = (401, 422, 500, 503)
# What a route that reads a body may answer besides: malformed JSON, too large, not JSON at all.
BODY_ERRORS = (400, 413, 415)


# What each error answers, as Swagger UI shows it (one example per status).
ERROR_EXAMPLES: dict[int, dict[str, Any]] = {
    400: {"message": "The request body is not valid JSON."},
    401: {"message": errors.Unauthenticated().message},
    403: {"message": errors.Forbidden().message},
    404: {"message": errors.NotFound("Lead").message},
    409: {"message": "The lead is already qualified."},
    412: {"message": errors.PreconditionFailed().message},
    413: {"message": errors.PayloadTooLarge(256 * 1024).message},
    415: {"message": errors.UnsupportedMediaType().message},
    422: validation_body({"first_name": ["The first name field is required."]}),
    429: {"message": errors.TooManyRequests(30).message},
    500: {"message": SERVER_ERROR},
    503: {"message": "The service is busy. Please retry shortly."},
}


def _answer(description: str, model: type[BaseModel], example: Any = None) -> OpenAPIResponse:
    media: dict[str, Any] = {"model": model}
    if example is not None:
        media["example"] = example
    content: Any = {"application/json": media}
    return {"description": description, "content": content}


Answer = tuple[int, type[BaseModel], str]  # status, body model, description


def responses(
    success: Answer,
    *errors: int,
    also: Sequence[Answer] = (),
    error_bodies: Mapping[int, type[BaseModel]] | None = None,
) -> dict[int, OpenAPIResponse]:
    """A route's documented answers: its success (status, body model, description), and ``also``
    other successes (a 202, a 303), the errors every route may give, and the given ones, all in
    the API's error envelope (``error_bodies``: a status whose envelope says more, by its model)."""
    answers = {status: _answer(description, model) for status, model, description in (success, *also)}
    for error in sorted({*COMMON_ERRORS, *errors}):
        envelope = ValidationErrorBody if error == 422 else ErrorBody
        answers[error] = _answer(
            ERROR_DESCRIPTIONS[error], (error_bodies or {}).get(error, envelope), ERROR_EXAMPLES[error]
        )
    return answers


# What a public route (no token) says about authentication: nothing is needed. An empty
# requirement object is OpenAPI's way to say so; Powertools drops an empty list.
NO_AUTH: list[dict[str, list[str]]] = [{}]
PUBLIC_ERRORS = (422, 500, 503)


def page_answer(description: str, media_type: str = "text/html") -> OpenAPIResponse:
    """A success that is not JSON (an HTML page, a script, a redirect with no body)."""
    content: Any = {media_type: {"schema": {"type": "string"}}}
    return {"description": description, "content": content}


def public_responses(
    successes: dict[int, OpenAPIResponse], *errors: int, json_success: Sequence[Answer] = ()
) -> dict[int, OpenAPIResponse]:
    """A public route's documented answers: its successes, and its errors in the API's envelope
    (no 401: it takes no token)."""
    answers = {status: _answer(description, model) for status, model, description in json_success}
    answers.update(successes)
    for error in sorted({*PUBLIC_ERRORS, *errors}):
        answers[error] = _answer(
            ERROR_DESCRIPTIONS[error],
            ValidationErrorBody if error == 422 else ErrorBody,
            ERROR_EXAMPLES[error],
        )
    return answers


def document_public_routes(app: APIGatewayRestResolver) -> None:
    """Powertools checks each route's ``security`` against its own resolver's schemes, and needs
    some: a resolver whose routes say ``NO_AUTH`` declares the API's bearer scheme (which their
    empty requirement does not name)."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    app.configure_openapi(security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")})
