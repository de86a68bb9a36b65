"""Mint HS256 tokens for the local stack and the tests (dev only: never for a deployment).

``python -m devstack.tokens --user 2 --tenant acme`` prints a token for a demo user.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning

LOCAL_DEV_SECRET = "local-dev-secret"
# The dev secret is knowingly shorter than PyJWT recommends; a deployment sets a real one.
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)


def local_secret() -> str:
    return os.environ.get("JWT_SECRET") or LOCAL_DEV_SECRET


def mint_token(
    user_id: int | str,
    tenant_id: str,
    *,
    role: str | None = "user",
    team_id: int | None = None,
    name: str | None = None,
    email: str | None = None,
    secret: str | None = None,
    ttl_seconds: int = 12 * 3600,
    **claims: Any,
) -> str:
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "tenant_id": tenant_id,
        "iat": int(time.time()),
        "exp": int(time.time()) + ttl_seconds,
    }
    optional = {"role": role, "team_id": team_id, "name": name, "email": email}
    payload.update({k: v for k, v in optional.items() if v is not None})
    payload.update(claims)
    return jwt.encode(payload, secret or local_secret(), algorithm="HS256")


def main() -> None:
    from devstack.seed import demo_user

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--user", type=int, default=1)
    parser.add_argument("--tenant", default="acme")
    args = parser.parse_args()
    user = demo_user(args.tenant, args.user)
    print(
        mint_token(
            user.id, user.tenant_id, role=user.role, team_id=user.team_id, name=user.name, email=user.email
        )
    )


if __name__ == "__main__":
    main()
