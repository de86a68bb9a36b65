"""The one place where errors become HTTP answers, all in the API's envelope:
``{"message": "..."}``, and for validation ``{"message": "...", "errors": {"field": ["..."]}}``.

No stack trace, exception text of a library, or boto3 message ever reaches a client: an
unexpected failure is logged and answered ``500 {"message": "Server Error"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from leads_shared import errors
from leads_shared.observability import logger
from leads_shared.validation_messages import invalid_input

STATUS_OF: dict[type[errors.DomainError], int] = {
    errors.BadRequest: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PreconditionFailed: 412,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.ValidationFailed: 422,
    errors.TooManyRequests: 429,
    errors.StoreFailure: 500,
    errors.ServiceUnavailable: 503,
}
SERVER_ERROR = "Server Error"
NO_BOUNDARY = "The multipart/form-data body has no boundary."
UNREADABLE_FORM = "The multipart/form-data body could not be read."
# Where Powertools parses request bodies before validation.
BODY_PARSER = "aws_lambda_powertools.event_handler.middlewares.openapi_validation"


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers or {}
    )


def error_response(error: errors.DomainError) -> Response:
    status = next((code for cls, code in STATUS_OF.items() if isinstance(error, cls)), 500)
    if status >= 500:
        logger.error(
            "request failed", extra={"error": type(error).__name__, "detail": error.message}, exc_info=error
        )
        message = SERVER_ERROR if status == 500 else error.message
        return json_response(status, {"message": message})
    headers = {}
    if isinstance(error, errors.Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
        logger.info("unauthenticated", extra={"reason": error.reason})
    if isinstance(error, errors.TooManyRequests):
        headers["Retry-After"] = str(error.retry_after)
    body: dict[str, Any] = {"message": error.message}
    if isinstance(error, errors.ValidationFailed):
        body = validation_body(error.errors)
    if isinstance(error, errors.DuplicatesFound):
        body["duplicates"] = error.duplicates
    return json_response(status, body, headers)


def validation_body(found: dict[str, list[str]]) -> dict[str, Any]:
    messages = [m for ms in found.values() for m in ms]
    message = messages[0]
    if len(messages) > 1:
        more = len(messages) - 1
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return {"message": message, "errors": found}


def request_validation_response(exc: RequestValidationError) -> Response:
    return error_response(invalid_input(list(exc.errors())))


# ------------------------------------------------------------------ registration
def _raised_in(error: BaseException, module: str) -> bool:
    """Whether the innermost Python frame of ``error``'s traceback is in ``module``."""
    frame = None
    trace = error.__traceback__
    while trace is not None:
        frame, trace = trace.tb_frame, trace.tb_next
    return frame is not None and frame.f_globals.get("__name__") == module


def register_error_handlers(
    app: APIGatewayRestResolver,
    before_validation_errors: Callable[[], None] | None = None,
    allowed_methods: Callable[[str], list[str]] | None = None,
) -> None:
    """Install the mapping on a resolver. ``before_validation_errors`` runs before a 422 is
    sent (authentication: Powertools validates a request before any middleware runs, and a
    caller without a valid token must get 401, not a description of our validation rules).
    ``allowed_methods(path)`` tells a route the API has (405 with ``Allow``) from none (404)."""

    @app.exception_handler(errors.DomainError)
    def _domain(error: errors.DomainError) -> Response:
        return error_response(error)

    def authenticated_first(answer: Callable[[], Response]) -> Response:
        if before_validation_errors is not None:
            try:
                before_validation_errors()
            except errors.DomainError as error:
                return error_response(error)
        return answer()

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return authenticated_first(lambda: request_validation_response(exc))

    @app.exception_handler(RequestUnsupportedContentType)
    def _not_json(_: RequestUnsupportedContentType) -> Response:
        # A body sent as text/plain, XML, ...: Powertools reads only JSON and forms.
        return authenticated_first(lambda: error_response(errors.UnsupportedMediaType()))

    @app.exception_handler(ValueError)
    def _value_error(error: ValueError) -> Response:
        # Powertools' body parser raises a bare ValueError for a multipart body it cannot read
        # (no usable boundary, a part that is not UTF-8): the request's fault. Any other
        # ValueError is ours (a 500, logged), still after the token check.
        if _raised_in(error, BODY_PARSER):
            reason = NO_BOUNDARY if "boundary" in str(error) else UNREADABLE_FORM
            return authenticated_first(lambda: json_response(400, {"message": reason}))
        return authenticated_first(lambda: _unexpected(error))

    @app.exception_handler(RecursionError)
    def _too_deep(_: RecursionError) -> Response:
        return authenticated_first(
            lambda: json_response(400, {"message": "The request body is nested too deeply."})
        )

    @app.not_found
    def _not_found(_: Exception) -> Response:
        event = app.current_event
        allowed = allowed_methods(event.path) if allowed_methods else []
        if allowed:
            supported = ", ".join(allowed)
            message = (
                f"The {event.http_method} method is not supported for route {event.path.strip('/')}. "
                f"Supported methods: {supported}."
            )
            return json_response(405, {"message": message}, {"Allow": supported})
        route = event.path.strip("/") or "/"
        return json_response(404, {"message": f"The route {route} could not be found."})

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error")
        return json_response(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": SERVER_ERROR})
