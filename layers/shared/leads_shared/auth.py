"""JWT authentication and role checks.

Tokens are verified with exactly one algorithm family: HS256 with ``JWT_SECRET``, or RS256/ES256
with the keys of ``JWT_JWKS_URL`` when that is set (then HS256 is refused, so a public key can
never be used as an HMAC secret).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import jwt

from leads_shared.config import Settings
from leads_shared.errors import Forbidden, Unauthenticated
from leads_shared.models.common import MAX_ID

Role = Literal["admin", "user"]
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")
# Tenant ids end up inside every key: keep them to a safe alphabet (no "#").
TENANT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class Principal:
    """Who is calling: taken from a verified token only."""

    user_id: int
    tenant_id: str
    role: Role = "user"
    team_id: int | None = None
    name: str | None = None
    email: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("not a Bearer token")
    return token.strip()


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300)


def _verification_key(token: str, settings: Settings) -> tuple[Any, list[str]]:
    if settings.jwt_jwks_url:
        try:
            signing_key = _jwks_client(settings.jwt_jwks_url).get_signing_key_from_jwt(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"no usable JWKS key: {exc}") from exc
        if signing_key.algorithm_name not in ASYMMETRIC_ALGORITHMS:
            raise Unauthenticated("JWKS key algorithm not allowed")
        return signing_key.key, [signing_key.algorithm_name]
    if settings.jwt_secret:
        return settings.jwt_secret, ["HS256"]
    raise Unauthenticated("no JWT_SECRET or JWT_JWKS_URL configured")


def _integer_claim(value: Any) -> int | None:
    """An integer claim, or an integer written as ASCII digits; anything else is None."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 16:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID:
        return value
    return None


def authenticate(authorization: str | None, settings: Settings) -> Principal:
    """Verify the bearer token and return the caller, or raise ``Unauthenticated``."""
    token = bearer_token(authorization)
    key, algorithms = _verification_key(token, settings)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            options={
                "require": ["exp", "sub", "tenant_id"],
                "verify_sub": False,  # `sub` may be an integer: checked below
                "verify_aud": settings.jwt_audience is not None,
                "verify_iss": settings.jwt_issuer is not None,
            },
            leeway=30,
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc

    user_id = _integer_claim(claims.get("sub"))
    tenant_id = claims.get("tenant_id")
    role = claims.get("role", "user")
    team_id = claims.get("team_id")
    if user_id is None or user_id < 1:
        raise Unauthenticated("sub is not a positive integer")
    if not isinstance(tenant_id, str) or not TENANT_ID.fullmatch(tenant_id):
        raise Unauthenticated("tenant_id missing or malformed")
    if role not in ("admin", "user"):
        raise Unauthenticated("unknown role")
    if team_id is not None and _integer_claim(team_id) is None:
        raise Unauthenticated("team_id is not an integer")
    name, email = claims.get("name"), claims.get("email")
    return Principal(
        user_id=user_id,
        tenant_id=tenant_id,
        role=role,
        team_id=_integer_claim(team_id) if team_id is not None else None,
        name=name if isinstance(name, str) else None,
        email=email if isinstance(email, str) else None,
    )


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden()
