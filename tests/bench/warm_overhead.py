"""Warm overhead: each route's time per request through its handler, against the raw DynamoDB
calls it makes, in one process and one run.

For each route, ``n`` requests go to the function's ``lambda_handler`` (loaded once, and warmed by
a first request that is not counted) as the API Gateway event; the DynamoDB calls each request
makes are recorded (``capture.recording``) and, right after it, made again as they were with a
bare ``boto3`` client. The figure is the median request time over the median replay time: what
routing, validation, auth, the rules, (de)serialisation and the Powertools decorators add to
the DynamoDB round trips. The emulator runs in a thread of this process (so both sides pay for
it alike); S3 calls (the export's upload) are in the route's time and not in the replay.
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import boto3

from tests.bench.capture import describe, recording, replay
from tests.bench.workload import Api, BenchTenant

WARMUP = 1  # first request of a route: not counted (a function's first request pays lazy imports)


def measure(api: Api, n: int) -> list[dict[str, Any]]:
    tenant = BenchTenant.create(api, f"bench-warm-{uuid.uuid4().hex[:6]}")
    bare = boto3.client("dynamodb")
    rows = []
    for route_key in api.route_keys():
        events = [api.event(call, tenant.token) for call in tenant.requests(route_key, n + WARMUP)]
        route_times: list[float] = []
        raw_times: list[float] = []
        refused = replayed = 0
        calls = others = ""
        for index, (route, event) in enumerate(events):
            with recording() as recorded:
                started = time.perf_counter()
                response = api.invoke(route, event)
                elapsed = time.perf_counter() - started
            if int(response["statusCode"]) >= 300:
                raise RuntimeError(f"{route_key}: {response['statusCode']} {response.get('body', '')[:300]}")
            dynamodb = recorded.dynamodb()
            raw, failed = replay(bare, dynamodb)
            if index < WARMUP:
                continue
            route_times.append(elapsed)
            if dynamodb:
                raw_times.append(raw)
            refused += failed
            replayed += len(dynamodb)
            calls, others = describe(dynamodb), describe(recorded.others())
        route_ms = statistics.median(route_times) * 1000
        raw_ms = statistics.median(raw_times) * 1000 if raw_times else None
        rows.append(
            {
                "route": route_key,
                "calls": calls,
                "others": others,
                "samples": len(route_times),
                "route_ms": route_ms,
                "raw_ms": raw_ms,
                "ratio": route_ms / raw_ms if raw_ms else None,
                "refused": refused,
                "replayed": replayed,
            }
        )
    return rows
