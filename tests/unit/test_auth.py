"""Token verification: who gets in, and that nothing else does."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from devstack.tokens import mint_token
from leads_shared.auth import Identity, Principal, authenticate, require_admin
from leads_shared.config import Settings
from leads_shared.errors import Forbidden, Unauthenticated

SECRET = "unit-secret-0123456789abcdef0123456789"
HS = Settings(table_name="t", jwt_secret=SECRET)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_valid_token_gives_the_caller():
    token = mint_token(7, "acme", role="admin", team_id=2, name="Ann", email="a@x.test", secret=SECRET)
    identity = authenticate(bearer(token), HS)
    assert identity == Identity(
        tenant_id="acme", subject="7", user_id=7, role="admin", team_id=2, name="Ann", email="a@x.test"
    )


def test_integer_sub_is_that_user_and_a_missing_role_is_left_to_the_directory():
    now = int(time.time())
    token = jwt.encode({"sub": 5, "tenant_id": "acme", "exp": now + 60}, SECRET, algorithm="HS256")
    identity = authenticate(bearer(token), HS)
    assert (identity.subject, identity.user_id, identity.role, identity.team_id) == ("5", 5, None, None)


@pytest.mark.parametrize(
    "subject",
    [
        "8f14e45f-ceea-467f-a8a8-3b1a2c3d4e5f",
        "00u1abcdEFGH2345x697",
        "auth0|5f7c8ec7c33c6c004bbafe82",
        "0",
        "²",
    ],
)
def test_string_subjects_of_real_identity_providers_are_accepted(subject):
    token = jwt.encode(_claims(sub=subject), SECRET, algorithm="HS256")
    identity = authenticate(bearer(token), HS)
    assert identity.subject == subject and identity.user_id is None


def test_claim_names_are_configuration():
    settings = Settings(
        table_name="t",
        jwt_secret=SECRET,
        tenant_claim="custom:tenant_id",
        subject_claim="oid",
        role_claim="cognito:groups",
    )
    claims = {"oid": "abc-123", "custom:tenant_id": "newco", "cognito:groups": ["sales", "admin"]}
    token = jwt.encode({**claims, "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    identity = authenticate(bearer(token), settings)
    assert (identity.tenant_id, identity.subject, identity.role) == ("newco", "abc-123", "admin")
    no_admin = jwt.encode({**claims, "cognito:groups": ["sales"], "exp": int(time.time()) + 60}, SECRET)
    assert authenticate(bearer(no_admin), settings).role == "user"
    # the default claim names mean nothing under another configuration
    default_named = jwt.encode(_claims(), SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        authenticate(bearer(default_named), settings)


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic abc", "garbage", "Bearer not.a.jwt"],
)
def test_missing_or_malformed_header_is_unauthenticated(header):
    with pytest.raises(Unauthenticated):
        authenticate(header, HS)


def _claims(**overrides):
    claims = {"sub": "1", "tenant_id": "acme", "exp": int(time.time()) + 60}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(
    "claims",
    [
        _claims(exp=int(time.time()) - 3600),  # expired
        _claims(exp=None),  # no exp
        _claims(sub=None),
        _claims(sub=""),
        _claims(sub="   "),
        _claims(sub=True),
        _claims(tenant_id=None),
        _claims(tenant_id=""),
        _claims(tenant_id="acme#LEAD#1"),  # would reach into other keys
        _claims(tenant_id=42),
        _claims(role="superuser"),
        _claims(team_id="blue"),
        _claims(sub="x" * 256),  # subjects are 1-255 characters
        _claims(sub="1" * 5000),
        _claims(team_id="²"),
        _claims(tenant_id="acme\n"),
    ],
    ids=[
        "expired",
        "no-exp",
        "no-sub",
        "empty-sub",
        "blank-sub",
        "bool-sub",
        "no-tenant",
        "empty-tenant",
        "tenant-with-hash",
        "int-tenant",
        "unknown-role",
        "bad-team",
        "long-sub",
        "huge-sub",
        "superscript-team",
        "tenant-newline",
    ],
)
def test_bad_claims_are_unauthenticated(claims):
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        authenticate(bearer(token), HS)


def test_other_secret_and_alg_none_are_refused():
    forged = jwt.encode(_claims(), "another-secret-0123456789abcdef012345", algorithm="HS256")
    unsigned = jwt.encode(_claims(), None, algorithm="none")
    for token in (forged, unsigned):
        with pytest.raises(Unauthenticated):
            authenticate(bearer(token), HS)


def test_no_configured_key_refuses_everything():
    token = mint_token(1, "acme", secret=SECRET)
    with pytest.raises(Unauthenticated):
        authenticate(bearer(token), Settings(table_name="t"))


def test_issuer_and_audience_are_checked_when_configured():
    settings = Settings(table_name="t", jwt_secret=SECRET, jwt_issuer="https://idp", jwt_audience="leads")
    good = jwt.encode(_claims(iss="https://idp", aud="leads"), SECRET, algorithm="HS256")
    assert authenticate(bearer(good), settings).user_id == 1
    for claims in (
        _claims(iss="https://evil", aud="leads"),
        _claims(iss="https://idp", aud="other"),
        _claims(aud="leads"),
        _claims(iss="https://idp"),
    ):
        with pytest.raises(Unauthenticated):
            authenticate(bearer(jwt.encode(claims, SECRET, algorithm="HS256")), settings)


def test_require_admin():
    require_admin(Principal(user_id=1, tenant_id="a", role="admin"))
    with pytest.raises(Forbidden):
        require_admin(Principal(user_id=1, tenant_id="a", role="user"))


# ------------------------------------------------------------------ JWKS (RS256 / ES256)
@pytest.fixture(scope="module")
def jwks_server():
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    keys = []
    for kid, key, alg in (("rsa1", rsa_key, "RS256"), ("ec1", ec_key, "ES256")):
        cls = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
        jwk = json.loads(cls.to_jwk(key.public_key()))
        jwk.update(kid=kid, alg=alg, use="sig")
        keys.append(jwk)
    body = json.dumps({"keys": keys}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json", rsa_key, ec_key
    server.shutdown()


def test_jwks_tokens_are_verified_and_hs256_is_refused(jwks_server):
    url, rsa_key, ec_key = jwks_server
    settings = Settings(table_name="t", jwt_jwks_url=url, jwt_secret=SECRET)
    rs = jwt.encode(_claims(), rsa_key, algorithm="RS256", headers={"kid": "rsa1"})
    es = jwt.encode(_claims(), ec_key, algorithm="ES256", headers={"kid": "ec1"})
    assert authenticate(bearer(rs), settings).tenant_id == "acme"
    assert authenticate(bearer(es), settings).tenant_id == "acme"
    # With a JWKS configured, an HS256 token is refused even if signed with JWT_SECRET.
    hs = jwt.encode({**_claims()}, SECRET, algorithm="HS256", headers={"kid": "rsa1"})
    with pytest.raises(Unauthenticated):
        authenticate(bearer(hs), settings)
    unknown_kid = jwt.encode(_claims(), rsa_key, algorithm="RS256", headers={"kid": "nope"})
    with pytest.raises(Unauthenticated):
        authenticate(bearer(unknown_kid), settings)


# A fresh interpreter: HS256 verification, then what was loaded (PyJWT's RSA/EC need cryptography).
FRESH_PROCESS = """
import json, sys
from leads_shared.auth import authenticate, pyjwt
from leads_shared.config import Settings
settings = Settings(table_name="t", jwt_secret=sys.argv[1], jwt_jwks_url=sys.argv[3] or None)
if sys.argv[3]:
    pyjwt(settings)
else:
    identity = authenticate("Bearer " + sys.argv[2], settings)
    assert identity.tenant_id == "acme", identity
import jwt.algorithms
print(json.dumps({"cryptography": "cryptography" in sys.modules, "rsa": jwt.algorithms.has_crypto}))
"""


@pytest.mark.parametrize(
    ("jwks_url", "loaded"),
    [
        ("", {"cryptography": False, "rsa": False}),
        ("https://idp.example.com/jwks", {"cryptography": True, "rsa": True}),
    ],
)
def test_cryptography_is_loaded_only_for_rs256_and_es256(jwks_url, loaded):
    """An HS256 setup verifies tokens without loading cryptography (a fifth of a bare cold start);
    a JWKS setup has RS256 and ES256."""
    token = mint_token(1, "acme", role="admin", secret=SECRET)
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, SECRET, token, jwks_url],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "", "PYTHONPATH": "layers/shared"},
    )
    assert json.loads(done.stdout) == loaded
