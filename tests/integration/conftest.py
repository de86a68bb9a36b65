"""Handlers against the AWS emulator, with the table, bucket and queues built from template.yaml.

One emulator serves the whole session; each test gets a tenant of its own (teams 1 Inbound, 2
Enterprise; users 1 admin/team 1, 2 user/team 1, 3 user/team 2), so tests cannot see each
other's data: the same isolation the API promises its tenants. Requests go through the local API
Gateway stand-in in-process (no socket), so every handler sees the REST v1 event API Gateway
would send.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from werkzeug.test import Client

from devstack.emulator import Emulator, empty_tables, restore_resources, start_emulator
from devstack.gateway import LocalGateway
from devstack.runtime import LambdaFunction
from devstack.seed import seed_demo_data
from devstack.stack import LOCAL_PARAMETERS, RUNTIME_ENVIRONMENT, functions_environment
from devstack.template import Template
from leads_shared.data import get_directory_store
from tests.support.caches import clear_process_caches
from tests.support.clients import Caller, Tenant, make_tenant


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    template = Template.load(parameter_overrides=LOCAL_PARAMETERS)
    emulator = start_emulator(template)
    saved = dict(os.environ)
    os.environ.update(emulator_environment(emulator))
    try:
        yield emulator
    finally:
        os.environ.clear()
        os.environ.update(saved)
        emulator.stop()


def emulator_environment(emulator: Emulator) -> dict[str, str]:
    """What the functions see: the template's variables, pointed at the emulator."""
    return {**functions_environment(emulator.template), **emulator.client_environment, **RUNTIME_ENVIRONMENT}


@pytest.fixture(scope="module", autouse=True)
def empty_table_per_module(emulator: Emulator) -> None:
    """Each module starts with the emulator as the session made it, whatever ran before it in this
    process (the local stack's own tests start emulators, which reset moto's backends, one per
    process, and set their own environment), and on an empty table: the emulator groups a table's
    items by index partition after each write, and the isolation tests scan whole tables, so
    each test would otherwise pay for what every earlier module wrote (2,000 leads of
    test_leads_list)."""
    os.environ.update(emulator_environment(emulator))
    # Module fixtures run before the first test's fresh settings: what this process cached
    # before (at collection, or in another environment) must not reach them.
    clear_process_caches()
    restore_resources(emulator)
    empty_tables(emulator)


@pytest.fixture
def demo_data(emulator: Emulator) -> None:
    """acme and globex, as `make dev` has them (other tests use random tenants: no clash). Seeded
    on first use in a module (each starts on an empty table)."""
    if get_directory_store().user("acme", 1) is None:
        seed_demo_data()


@pytest.fixture(scope="module")
def ingest(emulator: Emulator) -> LambdaFunction:
    """The email ingest function (``mail_support.deliver`` runs it on a message's S3 event)."""
    return LambdaFunction(emulator.template.function("EmailIngestFunction"))


@pytest.fixture(scope="session")
def gateway(emulator: Emulator) -> Client:
    template = emulator.template
    functions = {fid: LambdaFunction(spec) for fid, spec in template.functions().items()}
    for function in functions.values():
        function.load()
    return Client(LocalGateway(template.api_routes(), template.apis(), functions))


@pytest.fixture
def tenant(gateway: Client) -> Tenant:
    return make_tenant(gateway)


@pytest.fixture
def other_tenant(gateway: Client) -> Tenant:
    return make_tenant(gateway)


@pytest.fixture
def alice(tenant: Tenant) -> Caller:
    """The tenant's admin."""
    return tenant.as_user(1)


@pytest.fixture
def bob(tenant: Tenant) -> Caller:
    """A plain user of team 1."""
    return tenant.as_user(2)
