"""`make bench` cannot rot: each of its parts runs here at a tiny size against the test emulator,
and covers every function and route of template.yaml. No timing is asserted (timings belong to
the benchmark's report, not to tests); only that the parts run and count what they should."""

from __future__ import annotations

import argparse
import io

from devstack.emulator import Emulator
from devstack.runtime import LambdaFunction
from tests.bench import __main__ as bench
from tests.bench import cold_start, csv_throughput, route_costs, warm_overhead
from tests.bench.workload import ROUTES, Api


def api_of(emulator: Emulator) -> Api:
    functions = {fid: LambdaFunction(spec) for fid, spec in emulator.template.functions().items()}
    return Api(emulator.template, functions)


def test_every_function_and_route_is_benchmarked(emulator: Emulator) -> None:
    assert set(cold_start.FIRST_REQUESTS) == set(emulator.template.functions())
    assert set(ROUTES) == set(api_of(emulator).route_keys())


def test_the_bench_parts_run_at_a_tiny_size(emulator: Emulator, demo_data: None) -> None:
    api = api_of(emulator)
    cold = cold_start.measure(
        emulator.template,
        1,
        {name: cold_start.FIRST_REQUESTS[name] for name in ("MetaFunction", "NotesFunction")},
    )
    warm = warm_overhead.measure(api, 1)
    costs = route_costs.measure(api, [2, 5])
    csv = csv_throughput.measure([30], {30})

    # a new container reads the caller's user once (identity), then the route's own Query
    assert [row["calls"] for row in cold] == ["none (baseline: one GetItem)", "BatchGetItem, Query"]
    by_route = {row["route"]: row for row in warm}
    assert by_route["GET /leads/{id}"]["calls"] == "Query" and by_route["GET /leads/{id}"]["samples"] == 1
    assert by_route["GET /health"]["ratio"] is None  # no DynamoDB request: nothing to compare with
    grows = {row["route"]: row["grows"] for row in costs}
    assert grows["GET /leads/{id}"] is False and grows["GET /leads/export"] is True
    assert (csv[0]["imported"], csv[0]["exported"]) == (30, 30) and "import_rps" in csv[0]

    report = io.StringIO()
    arguments = argparse.Namespace(samples=1, requests=1, leads=[2, 5])
    bench._print({"cold": cold, "warm": warm, "csv": csv, "costs": costs}, arguments, report)
    assert "| `GET /leads/{id}` | Query |" in report.getvalue()
