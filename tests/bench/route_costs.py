"""DynamoDB requests and items read per route, in a tenant of 1,000 and one of 10,000 leads.

Each size is a tenant of its own: its leads imported through the worker's code, then the
fixtures every route reads (``workload.BenchTenant``); each route is called once and the data
layer's meter (``leads_shared.data.dynamo.meter``: requests and items read, from the responses'
own counts) is read. A count that differs between the sizes grows with the tenant's data. Besides
the routes: a few variants of ``GET /leads`` that the README's access-pattern table lists, and
the import worker importing a 10-row file into the tenant.
"""

from __future__ import annotations

import uuid
from typing import Any

from leads_shared import import_worker
from leads_shared.data import get_blob_store, get_directory_store, get_import_store, get_lead_store
from leads_shared.data.dynamo import meter
from tests.bench.workload import Api, ApiCall, BenchTenant, upload

LIST_VARIANTS = {
    "GET /leads?status=new": {"status": "new"},
    "GET /leads?sort_by=created_at": {"sort_by": "created_at"},
    "GET /leads?search=first1": {"search": "first1"},
}
IMPORT_ROWS = 10


def _cost(tenant: BenchTenant, call: ApiCall) -> dict[str, Any]:
    route, event = tenant.api.event(call, tenant.token)
    meter.reset()
    response = tenant.api.invoke(route, event)
    cost = meter.snapshot()
    if int(response["statusCode"]) >= 300:
        raise RuntimeError(f"{call.method} {call.path}: {response['statusCode']} {response.get('body')}")
    return cost


def costs_at(api: Api, leads: int) -> dict[str, dict[str, Any]]:
    tenant = BenchTenant.create(api, f"bench-{leads}-{uuid.uuid4().hex[:6]}", leads=leads)
    costs = {}
    for route_key in api.route_keys():
        (call,) = tenant.requests(route_key, 1)
        costs[route_key] = _cost(tenant, call)
    for name, query in LIST_VARIANTS.items():
        costs[name] = _cost(tenant, ApiCall("GET", "/leads", query))
    key = upload(tenant.tenant_id, IMPORT_ROWS)
    meter.reset()
    import_worker.run_upload(
        key, get_import_store(), get_lead_store(), get_directory_store(), get_blob_store()
    )
    costs[f"import worker, a {IMPORT_ROWS}-row file"] = meter.snapshot()
    return costs


def measure(api: Api, sizes: list[int]) -> list[dict[str, Any]]:
    """One row per route: ``{"route", "costs": [{requests, items_read}, one per size], "grows"}``."""
    by_size = [costs_at(api, size) for size in sizes]
    rows = []
    for route_key in by_size[0]:
        costs = [sizes_costs[route_key] for sizes_costs in by_size]
        grows = any(
            (cost["requests"], cost["items_read"]) != (costs[0]["requests"], costs[0]["items_read"])
            for cost in costs
        )
        rows.append({"route": route_key, "costs": costs, "grows": grows})
    return rows
