"""A tenant's SCIM bearer token: what the identity provider (Okta, Entra ID) sends on every SCIM
request, and the only thing that tells which tenant the request is for.

- An admin issues one with ``POST /tenant/scim-token``: it is shown once; only its sha256 is
  stored (a token is 32 random bytes: a hash is enough, nobody can guess one to look it up).
  Issuing a new token revokes the previous one, in the same transaction.
- Tokens start with ``scim_``: a SCIM token is recognisable in a log or a secret scanner, and the
  SCIM routes refuse anything else (a JWT) before any read. Everywhere else it is refused like any
  token that is not a JWT.
"""

from __future__ import annotations

import hashlib
import secrets

from leads_shared.clock import utc_now
from leads_shared.data.scim_token_store import ScimTokenStore, TokenChanged
from leads_shared.errors import Conflict, Unauthenticated

PREFIX = "scim_"
TOKEN_BYTES = 32
# Longest token looked up: ours are 5 + 43 characters; anything much longer is not one.
MAX_TOKEN_CHARS = 128
MAX_ATTEMPTS = 5


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue(tenant_id: str, store: ScimTokenStore, created_at: str | None = None) -> str:
    """A new token for the tenant, issued at ``created_at`` (now by default); the previous one
    stops working."""
    for _ in range(MAX_ATTEMPTS):
        before = store.current_hash(tenant_id)
        token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        try:
            store.swap(tenant_id, before, token_hash(token), created_at or utc_now())
        except TokenChanged:
            continue  # another admin issued one at the same moment: revoke theirs too
        return token
    raise Conflict("SCIM tokens are being issued by others. Please retry.")


def tenant_of(token: str, store: ScimTokenStore) -> str:
    """The tenant whose current SCIM token this is (``Unauthenticated`` otherwise). A string that
    is not shaped like one of our tokens (a JWT, ...) is refused without a read."""
    if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_CHARS:
        raise Unauthenticated("not a SCIM token")
    tenant_id = store.tenant_of(token_hash(token))
    if tenant_id is None:
        raise Unauthenticated("unknown or revoked SCIM token")
    return tenant_id
