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

from devstack.emulator import Emulator, empty_tables, start_emulator
from devstack.gateway import LocalGateway
from devstack.runtime import LambdaFunction
from devstack.seed import seed_demo_data
from devstack.stack import LOCAL_PARAMETERS, RUNTIME_ENVIRONMENT, functions_environment
from devstack.template import Template
from leads_shared.data import get_directory_store
from tests.support.clients import Caller, Tenant, make_tenant


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    template = Template.load(parameter_overrides=LOCAL_PARAMETERS)
    emulator = start_emulator(template)
    saved = dict(os.environ)
    os.environ.update(
        {
            **functions_environment(emulator.template),
            **emulator.client_environment,
            **RUNTIME_ENVIRONMENT,
        }
    )
    try:
        yield emulator
    finally:
        os.environ.clear()
        os.environ.update(saved)
        emulator.stop()


@pytest.fixture(scope="module", autouse=True)
def empty_table_per_module(emulator: Emulator) -> None:
    """Each module starts on an empty table. The emulator reads every item of a table to answer
    an index Query, so without this each test pays for what all earlier modules of its process
    wrote (2,000 leads of test_leads_list, 10,000 import rows...): the suite ran a third slower."""
    empty_tables(emulator)


@pytest.fixture
def demo_data(emulator: Emulator) -> None:
    """acme and globex, as `make dev` has them (other tests use random tenants: no clash). Seeded
    on first use, and again after a module emptied the tables (test_tenant_isolation): which
    modules share a test process, and in which order, is pytest-xdist's choice."""
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
