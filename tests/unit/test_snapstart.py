"""SnapStart: what a snapshot is primed with (no request to AWS) and what each restored copy of it
resets, run as Lambda's runtime runs the hooks (snapshot_restore_py's registries)."""

from __future__ import annotations

import random

import pytest
import snapshot_restore_py
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from leads_shared import auth, snapstart
from leads_shared.api import cors, entry_point, use_api_conventions
from leads_shared.data import blob_store, dynamo
from leads_shared.data.dynamo import meter
from leads_shared.identity import remembered
from leads_shared.models.common import Model
from leads_shared.models.directory import User


@pytest.fixture(autouse=True)
def empty_registries():
    for registry in (snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore()):
        registry.clear()
    yield
    for registry in (snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore()):
        registry.clear()


def run_hooks(registry: list) -> None:
    """As the runtime does: each registered function with the arguments it was registered with."""
    for function, args, kwargs in registry:
        function(*args, **kwargs)


def an_api() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, cors=cors())

    @app.get("/things/<thing_id>")
    def thing(thing_id: int) -> dict:
        return {"id": thing_id}

    use_api_conventions(app)
    entry_point(app)
    return app


def test_every_api_function_registers_its_priming_and_its_reset() -> None:
    app = an_api()
    assert [(hook, args) for hook, args, _ in snapshot_restore_py.get_before_snapshot()] == [
        (snapstart.prime, (app,))
    ]
    assert [hook for hook, _, _ in snapshot_restore_py.get_after_restore()] == [snapstart.reset]


def test_the_snapshot_holds_the_clients_and_every_models_validator_and_makes_no_request() -> None:
    class Unused(Model):  # a model no request has used yet: built on first use, or by the snapshot
        number: int

    an_api()
    assert not Unused.__pydantic_complete__
    meter.reset()
    run_hooks(snapshot_restore_py.get_before_snapshot())
    assert dynamo.dynamodb_client.cache_info().currsize == 1
    assert blob_store.s3_client.cache_info().currsize == 1
    assert meter.snapshot()["requests"] == 0
    assert Unused.__pydantic_complete__


def test_restored_copies_do_not_share_random_state_callers_or_signing_keys(monkeypatch) -> None:
    an_api()
    random.seed(7)  # the state frozen in the snapshot
    frozen = random.getstate()
    user = User(tenant_id="acme", id=1, name="Alice", email="a@acme.com", role="admin", team_id=1)
    identity = auth.Identity(tenant_id="acme", subject="1", user_id=1, role="admin")
    remembered.put(identity, user, ttl=60)
    auth._jwks_client("https://idp.example.com/.well-known/jwks.json")

    run_hooks(snapshot_restore_py.get_after_restore())

    assert random.getstate() != frozen
    assert remembered.get(identity) is None
    assert auth._jwks_client.cache_info().currsize == 0
