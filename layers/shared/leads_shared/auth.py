"""JWT authentication and role checks: a verified token is an ``Identity``; the directory turns
it into the calling user, a ``Principal`` (``leads_shared.identity``).

Tokens are verified with exactly one algorithm family: HS256 with ``JWT_SECRET``, or RS256/ES256
with the keys of ``JWT_JWKS_URL`` when that is set (then HS256 is refused, so a public key can
never be used as an HMAC secret).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from leads_shared.errors import Forbidden, Unauthenticated
from leads_shared.models.common import MAX_ID, MAX_USER_ID

if TYPE_CHECKING:
    import jwt

    from leads_shared.config import Settings

Role = Literal["admin", "user"]
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")
# Tenant ids end up inside every key: keep them to a safe alphabet (no "#").
TENANT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_SUBJECT_CHARS = 255


@dataclass(frozen=True)
class Identity:
    """What a verified token says of its bearer (no directory read yet): the tenant, the
    identity provider's subject, and the claims the directory follows."""

    tenant_id: str
    subject: str
    # An integer subject (or an integer string) is that user id, as tokens have always meant.
    user_id: int | None = None
    role: Role | None = None  # None: the token carries none (the directory's role applies)
    team_id: int | None = None
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user of the tenant's directory, found from a verified token."""

    user_id: int
    tenant_id: str
    role: Role = "user"
    team_id: int | None = None
    name: str | None = None
    email: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def pyjwt(settings: Settings) -> ModuleType:
    """PyJWT, imported on the first token rather than at import. PyJWT loads `cryptography` (its
    RSA and EC algorithms) whenever it is installed: a fifth of a bare boto3 cold start, which an
    HS256 setup never uses. So when this process verifies HS256 only (no JWKS URL) and nothing
    has loaded either yet, PyJWT is imported with `cryptography` hidden from it; RS256/ES256 then
    stay unavailable in this process, which on Lambda never changes its settings."""
    if "jwt" not in sys.modules and not settings.jwt_jwks_url and "cryptography" not in sys.modules:
        sys.modules["cryptography"] = None  # type: ignore[assignment]  # import of it: ModuleNotFoundError
        try:
            import jwt
        finally:
            del sys.modules["cryptography"]
    import jwt

    return jwt


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("not a Bearer token")
    return token.strip()


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    import jwt  # with cryptography: a JWKS URL is set

    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300)


def forget_signing_keys() -> None:
    """Drop the identity provider's cached keys (fetched again on the next token)."""
    _jwks_client.cache_clear()


def _verification_key(token: str, settings: Settings) -> tuple[Any, list[str]]:
    jwt = pyjwt(settings)
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


def _role(value: Any) -> Role | None:
    """A role claim: ``admin`` or ``user``, or a list of groups (holding ``admin``: an admin)."""
    if value is None:
        return None
    if isinstance(value, list):
        return "admin" if "admin" in value else "user"
    if value in ("admin", "user"):
        return value  # type: ignore[no-any-return]
    raise Unauthenticated("unknown role")


def _subject(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_SUBJECT_CHARS or not value.strip():
        raise Unauthenticated("subject missing or malformed")
    return value


def authenticate(authorization: str | None, settings: Settings) -> Identity:
    """Verify the bearer token and return what it says of the caller, or raise
    ``Unauthenticated``. No I/O (but the identity provider's keys, cached, with JWKS)."""
    token = bearer_token(authorization)
    key, algorithms = _verification_key(token, settings)
    jwt = pyjwt(settings)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            options={
                "require": ["exp", settings.subject_claim, settings.tenant_claim],
                "verify_sub": False,  # `sub` may be an integer: checked below
                "verify_aud": settings.jwt_audience is not None,
                "verify_iss": settings.jwt_issuer is not None,
            },
            leeway=30,
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc

    subject = _subject(claims.get(settings.subject_claim))
    tenant_id = claims.get(settings.tenant_claim)
    if not isinstance(tenant_id, str) or not TENANT_ID.fullmatch(tenant_id):
        raise Unauthenticated("tenant missing or malformed")
    role = _role(claims.get(settings.role_claim))
    team_id = claims.get("team_id")
    if team_id is not None and _integer_claim(team_id) is None:
        raise Unauthenticated("team_id is not an integer")
    user_id = _integer_claim(subject)
    name, email = claims.get("name"), claims.get("email")
    return Identity(
        tenant_id=tenant_id,
        subject=subject,
        user_id=user_id if user_id is not None and 1 <= user_id <= MAX_USER_ID else None,
        role=role,
        team_id=_integer_claim(team_id) if team_id is not None else None,
        name=name.strip()[:255] or None if isinstance(name, str) else None,
        email=email.strip()[:254] or None if isinstance(email, str) else None,
    )


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden()
