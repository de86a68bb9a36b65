"""Cold start of each API function against a bare boto3 client, in fresh processes.

Each sample is a new Python process that (a) imports a function's handler and serves its
first request, or (b) — the baseline — imports boto3, creates a DynamoDB client and makes the
same GetItem. Both run against the same local emulator, in the same run; we report medians and
the ratio, so the figure says what our code adds, whatever the machine.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
from typing import Any

from leads_shared.keys import LeadKeys
from tests.devstack.template import Template

SAMPLES = int(os.environ.get("BENCH_SAMPLES", "7"))

FUNCTION_PROBE = textwrap.dedent(
    """
    import time, json, sys, importlib.util
    t0 = time.perf_counter()
    spec = importlib.util.spec_from_file_location("handler_under_test", sys.argv[1])
    module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
    t1 = time.perf_counter()
    event = json.load(open(sys.argv[2]))
    class Context:
        function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "bench"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    response = module.lambda_handler(event, Context())
    t2 = time.perf_counter()
    assert response["statusCode"] < 400, response
    print(json.dumps({"import_ms": (t1 - t0) * 1000, "total_ms": (t2 - t0) * 1000}))
    """
)
BASELINE_PROBE = textwrap.dedent(
    """
    import time, json, sys
    t0 = time.perf_counter()
    import boto3
    t1 = time.perf_counter()
    client = boto3.client("dynamodb")
    item = client.get_item(TableName=sys.argv[1], Key=json.loads(sys.argv[2]))
    t2 = time.perf_counter()
    assert "Item" in item
    print(json.dumps({"import_ms": (t1 - t0) * 1000, "total_ms": (t2 - t0) * 1000}))
    """
)


def _run(args: list[str]) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-c", *args], check=True, capture_output=True, text=True, env=dict(os.environ)
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def measure(template: Template, events: dict[str, str]) -> list[dict[str, Any]]:
    """``events``: function logical id -> event file to serve as its first request."""
    table = os.environ["TABLE_NAME"]
    key = json.dumps({name: {"S": value} for name, value in LeadKeys.primary("acme", 1).items()})
    baseline = [_run([BASELINE_PROBE, table, key]) for _ in range(SAMPLES)]
    rows = [
        {
            "what": "bare boto3 client + GetItem (baseline)",
            "import_ms": _median(baseline, "import_ms"),
            "total_ms": _median(baseline, "total_ms"),
            "ratio": 1.0,
        }
    ]
    for function_id, event in events.items():
        handler = str(template.function(function_id).handler_file)
        samples = [_run([FUNCTION_PROBE, handler, event]) for _ in range(SAMPLES)]
        rows.append(
            {
                "what": f"{function_id}: import handler + first request ({os.path.basename(event)})",
                "import_ms": _median(samples, "import_ms"),
                "total_ms": _median(samples, "total_ms"),
                "ratio": _median(samples, "total_ms") / rows[0]["total_ms"],
            }
        )
    return rows
