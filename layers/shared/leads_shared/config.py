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
    # How long a DynamoDB answer may take before the SDK retries (the local emulator, which reads
    # a whole table per Query, needs more with 100k+ items: the benchmark raises it).
    dynamodb_read_timeout_seconds: float = 5
    # Lifetime of presigned upload and download URLs.
    url_expiry_seconds: int = 15 * 60
    # The domain of the drop-box addresses, leads+<tenant_id>.<token>@<inbound_domain> (capture
    # reads them; the API shows a tenant's).
    inbound_domain: str | None = None
    # X-Ray subsegments for each handler method and AWS call (the X-Ray SDK, a slower cold start);
    # without them a trace still shows API Gateway and the function end to end (observability.py).
    trace_calls: bool = False


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        table_name=_env("TABLE_NAME") or "",
        bucket_name=_env("BUCKET_NAME"),
        stage=_env("STAGE") or "dev",
        jwt_secret=_env("JWT_SECRET"),
        jwt_jwks_url=_env("JWT_JWKS_URL"),
        jwt_issuer=_env("JWT_ISSUER"),
        jwt_audience=_env("JWT_AUDIENCE"),
        tenant_claim=_env("JWT_TENANT_CLAIM") or "tenant_id",
        subject_claim=_env("JWT_SUBJECT_CLAIM") or "sub",
        role_claim=_env("JWT_ROLE_CLAIM") or "role",
        cors_allow_origin=_env("CORS_ALLOW_ORIGIN") or "*",
        import_max_bytes=int(_env("IMPORT_MAX_BYTES") or 50 * 1024 * 1024),
        dynamodb_read_timeout_seconds=float(_env("DYNAMODB_READ_TIMEOUT_SECONDS") or 5),
        inbound_domain=_env("INBOUND_DOMAIN"),
        trace_calls=(_env("TRACE_CALLS") or "false").lower() == "true",
    )
