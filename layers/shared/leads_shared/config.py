"""Typed configuration, read once from the environment.

Nothing else in the layer reads ``os.environ``: code asks ``get_settings()``.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    table_name: str = Field(min_length=1)
    bucket_name: str | None = None
    stage: str = "dev"
    # HS256 shared secret. There is no built-in default: the local stack passes
    # `local-dev-secret` (dev only); a deployment sets JwtSecret or JwtJwksUrl.
    jwt_secret: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # Where the token carries the tenant, the subject (the identity provider's user id) and the
    # role: `custom:tenant_id` for Cognito, `oid` for Entra ID, a list of groups such as
    # `cognito:groups` (holding "admin": an admin).
    tenant_claim: str = "tenant_id"
    subject_claim: str = "sub"
    role_claim: str = "role"
    # How long a container trusts what it learnt of a caller from the directory (deactivation
    # takes effect within this time).
    identity_cache_seconds: float = 60
    # The origin browsers may call the API from ("*": any; tokens are never sent automatically).
    cors_allow_origin: str = "*"
    # Largest JSON body accepted before parsing (API Gateway itself stops at 10 MB).
    max_body_bytes: int = 256 * 1024
    # CSV imports: a presigned upload takes up to import_max_bytes; a file posted to the API
    # itself (multipart) up to direct_upload_max_bytes (Lambda takes 6 MB, base64 inflates by 4/3).
    import_max_bytes: int = 50 * 1024 * 1024
    direct_upload_max_bytes: int = 4 * 1024 * 1024
    # How long a DynamoDB answer may take before the SDK retries (the local emulator, slower than
    # DynamoDB with 100k+ items or on a loaded machine, is given more: the tests and the benchmark).
    dynamodb_read_timeout_seconds: float = 5.0
    # Exports: GET /leads/export writes at most this many leads (within API Gateway's 29 s; more
    # is a 409 that names POST /leads/exports); export jobs are queued on the queue so named.
    sync_export_max_leads: int = Field(default=100_000, ge=0)
    export_queue_name: str | None = None
    # Lifetime of presigned upload and download URLs.
    url_expiry_seconds: int = 15 * 60
    # The domain of the drop-box addresses, leads+<tenant_id>.<token>@<inbound_domain> (capture
    # reads them; the API shows a tenant's).
    inbound_domain: str | None = None
    # Public lead forms (/f/{form_key}): a post sooner than this after its page was served is a
    # bot's (spam); the CAPTCHA providers' verification URL, when set, replaces each provider's
    # own (a test's stand-in on 127.0.0.1; https otherwise), and how long the call may take.
    form_min_fill_seconds: float = 2.0
    captcha_verify_url: str | None = None
    captcha_timeout_seconds: float = 5.0
    # GET /leads cursors: signed with this secret (at least 32 characters), else with a key
    # derived from jwt_secret; with neither, lists have no cursors (list_cursors.py). A cursor
    # lasts list_cursor_seconds.
    list_cursor_secret: str | None = Field(default=None, min_length=32)
    list_cursor_seconds: int = 60 * 60
    # X-Ray subsegments for each handler method and AWS call (the X-Ray SDK, a slower cold start);
    # without them a trace still shows API Gateway and the function end to end (observability.py).
    trace_calls: bool = False


# The environment variable behind each setting that a deployment sets (template.yaml). A setting
# whose variable is unset or blank keeps its default above: the defaults are written only there.
ENVIRONMENT = {
    "table_name": "TABLE_NAME",
    "bucket_name": "BUCKET_NAME",
    "stage": "STAGE",
    "jwt_secret": "JWT_SECRET",
    "jwt_jwks_url": "JWT_JWKS_URL",
    "jwt_issuer": "JWT_ISSUER",
    "jwt_audience": "JWT_AUDIENCE",
    "tenant_claim": "JWT_TENANT_CLAIM",
    "subject_claim": "JWT_SUBJECT_CLAIM",
    "role_claim": "JWT_ROLE_CLAIM",
    "cors_allow_origin": "CORS_ALLOW_ORIGIN",
    "import_max_bytes": "IMPORT_MAX_BYTES",
    "sync_export_max_leads": "SYNC_EXPORT_MAX_LEADS",
    "export_queue_name": "EXPORT_QUEUE_NAME",
    "dynamodb_read_timeout_seconds": "DYNAMODB_READ_TIMEOUT_SECONDS",
    "inbound_domain": "INBOUND_DOMAIN",
    "trace_calls": "TRACE_CALLS",
    "list_cursor_secret": "LIST_CURSOR_SECRET",
    "form_min_fill_seconds": "FORM_MIN_FILL_SECONDS",
    "captcha_verify_url": "CAPTCHA_VERIFY_URL",
}


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def calls_traced() -> bool:
    """``trace_calls`` alone (its rule is Settings'): read when the code is imported, which a tool
    that has no table (``make token``) does too."""
    traced = _env(ENVIRONMENT["trace_calls"])
    return (
        traced is not None and Settings.model_validate({"table_name": "-", "trace_calls": traced}).trace_calls
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    values = {field: _env(name) for field, name in ENVIRONMENT.items()}
    # No table is no configuration at all: refused (table_name's min_length), not defaulted.
    values["table_name"] = values["table_name"] or ""
    return Settings.model_validate({field: value for field, value in values.items() if value is not None})
