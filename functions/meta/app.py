"""Health check, the merged OpenAPI document of every function, and Swagger UI (no auth).

This function is packaged with the whole ``functions/`` folder (``CodeUri: functions/``), so
Powertools' OpenAPI merge can read the routes of every function's resolver and serve one
document for the whole API.
"""

from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from leads_shared.api import use_api_conventions
from leads_shared.observability import logger, metrics, tracer

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent
TITLE = "Leads API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Capture and manage inbound leads. Every route except `/health`, `/openapi.json` and `/docs` "
    'needs `Authorization: Bearer <JWT>`. Errors use one envelope: `{"message"}`, and for '
    'validation `{"message", "errors": {field: [messages]}}`.'
)

app = APIGatewayRestResolver(enable_validation=True)
use_api_conventions(app, public=True)
app.configure_openapi_merge(
    path=str(FUNCTIONS_DIR),
    pattern="app.py",
    recursive=True,
    exclude=["**/meta/**", "**/__pycache__/**"],
    title=TITLE,
    version=VERSION,
    description=DESCRIPTION,
    security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
    security=[{"bearerAuth": []}],
    on_conflict="error",
)
app.enable_swagger(path="/docs", title=TITLE, version=VERSION)


class Health(BaseModel):
    status: str = "ok"


@app.get("/health", summary="Health check", tags=["Meta"], include_in_schema=False)
def health() -> Health:
    return Health()


@app.get("/openapi.json", summary="OpenAPI document", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=app.get_openapi_merge_json_schema()
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
