"""Health check, the merged OpenAPI document of every function, Swagger UI, and the answers to
requests for a path the API does not have (404) or a method a path does not serve (405). No auth.

This function is packaged with the whole ``functions/`` folder (``CodeUri: functions/``), so
Powertools' OpenAPI merge can read the routes of every function's resolver and serve one
document for the whole API.
"""

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from pydantic import BaseModel

from leads_shared.api import JSON_MEDIA_TYPE, cors, entry_point, use_api_conventions
from leads_shared.route_table import RouteTable

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent
TITLE = "Leads API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Capture and manage inbound leads. Every route except `/health`, `/openapi.json` and `/docs` "
    'needs `Authorization: Bearer <JWT>`. Errors use one envelope: `{"message"}`, and for '
    'validation `{"message", "errors": {field: [messages]}}`. The SCIM routes (`/scim/v2`, tag SCIM) '
    "are for identity providers: they take the tenant's SCIM token and answer in SCIM's own format "
    "(`application/scim+json`, RFC 7644 errors)."
)

app = APIGatewayRestResolver(enable_validation=True, cors=cors())
# This function's own routes, which are left out of the document.
META_ROUTES = [("/health", "GET"), ("/openapi.json", "GET"), ("/docs", "GET")]


@lru_cache(maxsize=1)
def merged_document() -> str:
    """Every function's routes in one document. Built on the first request that needs it, not at
    import: Powertools' merge reads every function's app.py, which a health check does not need
    (nor does a cold start)."""
    from leads_shared.scim_api import SECURITY_SCHEMES as SCIM_SECURITY_SCHEMES

    app.configure_openapi_merge(
        path=str(FUNCTIONS_DIR),
        pattern="app.py",
        recursive=True,
        exclude=["**/meta/**", "**/__pycache__/**"],
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        security_schemes={
            "bearerAuth": HTTPBearer(bearerFormat="JWT"),
            # The SCIM routes (tag SCIM) take the tenant's SCIM token instead (POST /tenant/scim-token).
            **SCIM_SECURITY_SCHEMES,
        },
        security=[{"bearerAuth": []}],
        on_conflict="error",
    )
    return app.get_openapi_merge_json_schema()


@lru_cache(maxsize=1)
def route_table() -> RouteTable:
    return RouteTable.from_openapi(json.loads(merged_document()), META_ROUTES)


def allowed_methods(path: str) -> list[str]:
    return route_table().allowed(path)


use_api_conventions(app, public=True, allowed_methods=allowed_methods)


def _base_path() -> str:
    """Where the API is mounted for this caller: ``/<stage>`` on the execute-api host, empty on
    a custom domain or the local stack (the request's full path ends with the route's path)."""
    event = app.current_event
    full = event.request_context.path or event.path
    return full[: len(full) - len(event.path)] if full.endswith(event.path) else ""


def _with_body_examples(document: dict[str, Any]) -> dict[str, Any]:
    """Each JSON request body with its model's first example (``examples`` in the model's schema)
    as the media type's ``example``: what Swagger UI fills "Try it out" with."""
    schemas = document.get("components", {}).get("schemas", {})
    for item in document.get("paths", {}).values():
        for operation in item.values():
            media = (operation.get("requestBody") or {}).get("content", {}).get(JSON_MEDIA_TYPE)
            if not isinstance(media, dict) or "example" in media:
                continue
            schema = media.get("schema", {})
            refs = [schema, *schema.get("anyOf", [])]  # an optional body: the model or null
            for ref in (r["$ref"].rsplit("/", 1)[-1] for r in refs if "$ref" in r):
                if schemas.get(ref, {}).get("examples"):
                    media["example"] = schemas[ref]["examples"][0]
    return document


def _document() -> str:
    """The merged document, with its server set to where this caller reached the API, so that
    Swagger UI's "Try it out" calls the right stage, and its request bodies' examples."""
    document = _with_body_examples(json.loads(merged_document()))
    document["servers"] = [{"url": _base_path() or "/"}]
    return json.dumps(document)


class Health(BaseModel):
    status: str = "ok"


@app.get("/health", summary="Health check", tags=["Meta"], include_in_schema=False)
def health() -> Health:
    return Health()


@app.get("/openapi.json", summary="OpenAPI document", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=_document())


@app.get("/docs", summary="Swagger UI", include_in_schema=False)
def swagger() -> Response[str]:
    if app.current_event.get_query_string_value("format") == "json":
        # the link Swagger UI shows under its title
        return openapi_document()
    from aws_lambda_powertools.event_handler.openapi import swagger_ui

    assets = Path(swagger_ui.__file__).resolve().parent
    html = swagger_ui.generate_swagger_html(
        _document().replace("</", "<\\/"),  # keep the JSON from closing the <script> tag
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
    )
    return Response(status_code=200, content_type="text/html", body=html)


lambda_handler = entry_point(app)
