"""What every function's resolver shares: the error mapping and the auth guard.

A function creates its resolver as ``app = APIGatewayRestResolver(enable_validation=True)``
(written out in each ``app.py``: Powertools' OpenAPI merge finds resolvers by that line), then
calls ``use_api_conventions(app)``; a route asks ``caller(app)`` for the authenticated caller.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from leads_shared.auth import Principal, authenticate, require_admin
from leads_shared.config import get_settings
from leads_shared.errors import PayloadTooLarge
from leads_shared.http_errors import register_error_handlers

PRINCIPAL = "principal"


def caller(app: APIGatewayRestResolver) -> Principal:
    """The authenticated caller of the current request (verified once per request)."""
    principal = app.context.get(PRINCIPAL)
    if principal is None:
        settings = get_settings()
        body = app.current_event.body
        principal = authenticate(app.current_event.headers.get("Authorization"), settings)
        if body is not None and len(body) > settings.max_body_bytes:
            raise PayloadTooLarge(settings.max_body_bytes)
        app.append_context(**{PRINCIPAL: principal})
    return principal


def authenticated(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Global middleware: no route runs without a valid token."""
    caller(app)
    return next_middleware(app)


def admin_only(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Route middleware: the caller must have the ``admin`` role (403 otherwise)."""
    require_admin(caller(app))
    return next_middleware(app)


def use_api_conventions(app: APIGatewayRestResolver, *, public: bool = False) -> None:
    """Install the API's error envelope; unless ``public``, every route needs a valid token."""
    if not app._enable_validation:
        raise ValueError("create the resolver with enable_validation=True")
    if public:
        register_error_handlers(app)
    else:
        register_error_handlers(app, before_validation_errors=lambda: caller(app) and None)
        app.use(middlewares=[authenticated])
