"""Settings every test shares: a fake AWS account, the dev JWT secret, and no real AWS calls."""

from __future__ import annotations

import os

import pytest

from tests.support.progress import FileProgress

TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_XRAY_SDK_ENABLED": "false",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_SERVICE_NAME": "leads",
    "POWERTOOLS_METRICS_NAMESPACE": "Leads",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "JWT_SECRET": "local-dev-secret",
    "TABLE_NAME": "leads-test",
    "BUCKET_NAME": "leads-test-bucket",
    # On a loaded 2-core machine an emulator answer can pass the deployed 5 s (a 503 that says
    # nothing of the code under test).
    "DYNAMODB_READ_TIMEOUT_SECONDS": "30",
}
# Never let a test reach a real AWS endpoint from the developer's environment.
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"):
    os.environ.pop(name, None)
os.environ.update(TEST_ENV)


@pytest.fixture(autouse=True)
def fresh_settings():
    """Settings and clients are cached per process (as on Lambda); tests that change the
    environment get fresh ones."""
    from leads_shared import config, data
    from leads_shared.data import blob_store, dynamo, idempotency, secret_store

    caches = (
        config.get_settings,
        dynamo.dynamodb_client,
        data.get_lead_store,
        data.get_directory_store,
        data.get_record_store,
        data.get_activity_store,
        data.get_mail_store,
        data.get_import_store,
        data.get_tenant_store,
        data.get_trash_store,
        data.get_blob_store,
        data.get_scim_token_store,
        data.get_form_store,
        data.get_capture_store,
        data.get_secret_store,
        blob_store.s3_client,
        secret_store.ssm_client,
        idempotency._persistence,
    )
    for cache in caches:
        cache.cache_clear()
    yield
    for cache in caches:
        cache.cache_clear()


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the run's own process (not an xdist worker)
        config.pluginmanager.register(FileProgress(config), "file-progress")


# `make test` runs files on parallel workers, each file whole on one worker, started in this order:
# the longest first (measured: docs/tests.md), so that no long file starts last while the other
# workers have nothing left to do. The others follow in their usual order.
LONGEST_FIRST = (
    "tests/e2e/test_contract_fuzz.py",
    "tests/integration/test_sam.py",
    "tests/integration/test_leads_list.py",
    "tests/integration/test_import_dedupe.py",
    "tests/integration/test_security_matrix.py",
    "tests/integration/test_bench.py",
    "tests/integration/test_tenant_isolation.py",
    "tests/integration/test_csv_import.py",
    "devstack/tests/test_devstack_emulator.py",
    "tests/e2e/test_scim_conformance.py",
    "tests/e2e/test_forms_browser.py",
    "tests/e2e/test_readme.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def start(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=start)  # stable: a file's tests, and the other files, keep their order
