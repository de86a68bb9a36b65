"""What a process caches as Lambda does (settings, clients, stores): tests that change the
environment clear it, so the next use reads the environment again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _process_caches() -> list[Any]:
    from leads_shared import config, data
    from leads_shared.data import blob_store, dynamo, idempotency, job_queue, secret_store

    # Every store and queue the data package hands out (``get_*``), whatever is added later.
    getters = [f for name, f in vars(data).items() if name.startswith("get_") and hasattr(f, "cache_clear")]
    clients: list[Callable[..., Any]] = [
        config.get_settings,
        dynamo.dynamodb_client,
        blob_store.s3_client,
        secret_store.ssm_client,
        job_queue.sqs_client,
        idempotency._persistence,
    ]
    return [*clients, *getters]


def clear_process_caches() -> None:
    for cache in _process_caches():
        cache.cache_clear()
