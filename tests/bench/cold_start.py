"""Cold start of every function against a bare boto3 client making the same DynamoDB requests,
in fresh processes.

Each sample is a new Python process that either (a) imports a function's handler and serves its
first request (an API Gateway event from ``events/``, or for the queue-fed workers their SQS
sample event, for the stream-fed one its DynamoDB stream sample event), or (b), the baseline,
imports boto3, creates a DynamoDB client and makes the DynamoDB requests that first request
makes, as it made them (recorded once in this process with ``capture.recording``). A function
whose first request makes none (``GET /health``) is compared with a GetItem of a lead, the
cheapest request there is. Both kinds run against the same
emulator, alternately, in the same run; we report medians and the ratio, so the figure says what
our code adds to what any Python function talking to DynamoDB pays, whatever the machine.
The layer and the functions are compiled to bytecode first, as the deployed artifact ships them
(packaging/Makefile): a sample never pays for compiling our sources, which Lambda never does.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devstack.runtime import LambdaFunction
from devstack.template import REPO_ROOT, Template
from leads_shared.identity import remembered
from leads_shared.keys import LeadKeys
from tests.bench.capture import AwsCall, describe, recording
from tests.support import lambda_artifact

EVENTS = REPO_ROOT / "events"
# The first request of each function: a read of the demo data, the same on every run.
FIRST_REQUESTS = {
    "LeadsFunction": EVENTS / "leads" / "get.json",
    "NotesFunction": EVENTS / "notes" / "list.json",
    "TasksFunction": EVENTS / "tasks" / "list.json",
    "RecordsFunction": EVENTS / "records" / "contact.json",
    "DirectoryFunction": EVENTS / "directory" / "me.json",
    "TransfersFunction": EVENTS / "transfers" / "import_status.json",
    "ImportWorkerFunction": EVENTS / "import_worker" / "s3_upload.json",  # a finished import
    "ExportWorkerFunction": EVENTS / "export_worker" / "sqs_export_job.json",  # a finished export
    "MetaFunction": EVENTS / "meta" / "health.json",
    "LinkedEmailsFunction": EVENTS / "linked_emails" / "list.json",
    "EmailIngestFunction": EVENTS / "email_ingest" / "sqs_s3_put.json",  # an email already captured
    "TenantFunction": EVENTS / "tenant" / "get.json",
    "DirectorySyncFunction": EVENTS / "directory_sync" / "user_renamed.json",  # leads show the name
    "ScimFunction": EVENTS / "scim" / "service_provider_config.json",  # acme's demo SCIM token
    "LeadFormsFunction": EVENTS / "lead_forms" / "list.json",
    "FormCaptureFunction": EVENTS / "form_capture" / "page.json",  # acme's demo form
}

FUNCTION_PROBE = textwrap.dedent(
    """
    import time, json, sys, importlib
    t0 = time.perf_counter()
    sys.path.insert(0, sys.argv[3])  # the function's CodeUri, as /var/task on Lambda
    module = importlib.import_module(sys.argv[1])  # by module name, as Lambda's runtime does
    t1 = time.perf_counter()
    event = json.load(open(sys.argv[2]))
    class Context:
        function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "bench"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
        def get_remaining_time_in_millis(self): return 20000
    response = module.lambda_handler(event, Context())
    t2 = time.perf_counter()
    if "Records" not in event:
        ok = response["statusCode"] < 400
    elif event["Records"][0]["eventSource"] == "aws:dynamodb":
        ok = response is None  # a stream handler answers nothing; a failure raises
    else:
        ok = response.get("batchItemFailures") == []
    assert ok, response
    print(json.dumps({"import_ms": (t1 - t0) * 1000, "total_ms": (t2 - t0) * 1000}))
    """
)
BASELINE_PROBE = textwrap.dedent(
    """
    import time, json, sys
    t0 = time.perf_counter()
    import boto3
    from botocore import xform_name
    from botocore.exceptions import ClientError
    t1 = time.perf_counter()
    client = boto3.client("dynamodb")
    for operation, params in json.loads(sys.argv[1]):
        try:
            getattr(client, xform_name(operation))(**params)
        except ClientError:  # a write the first request's replay may find refused: same round trip
            pass
    t2 = time.perf_counter()
    print(json.dumps({"import_ms": (t1 - t0) * 1000, "total_ms": (t2 - t0) * 1000}))
    """
)


def _run(
    args: list[str], layer: Path = REPO_ROOT / "layers" / "shared", flags: tuple[str, ...] = ()
) -> dict[str, float]:
    # The layer on the path, as /opt/python is on Lambda; nothing else of the repository.
    environment = {**os.environ, "PYTHONPATH": str(layer)}
    done = subprocess.run(
        [sys.executable, *flags, "-c", *args], capture_output=True, text=True, env=environment, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def first_calls(function: LambdaFunction, event_file: Path) -> list[tuple[str, dict[str, Any]]]:
    """The DynamoDB requests the event makes (run once here, as in a new container: knowing no
    caller yet)."""
    remembered.clear()
    with recording() as recorded:
        function.invoke(json.loads(event_file.read_text(encoding="utf-8")))
    return [(call.operation, call.params) for call in recorded.dynamodb()]


def _substitute() -> list[tuple[str, dict[str, Any]]]:
    """The baseline of a first request that makes no DynamoDB request: a GetItem of a lead."""
    key = {name: {"S": value} for name, value in LeadKeys.primary("acme", 1).items()}
    return [("GetItem", {"TableName": os.environ["TABLE_NAME"], "Key": key})]


def compile_sources() -> None:
    """Bytecode for the layer and the functions, next to their sources (``__pycache__``, which git
    ignores). A tree run with ``PYTHONDONTWRITEBYTECODE`` (or never run) has none, and without it
    every sample would compile them: time the deployed artifact never spends."""
    for folder in (REPO_ROOT / "layers" / "shared", REPO_ROOT / "functions"):
        compileall.compile_dir(folder, quiet=1)


def measure(
    template: Template, samples: int, requests: Mapping[str, Path] = FIRST_REQUESTS
) -> list[dict[str, Any]]:
    """One row per function of ``requests``: medians of ``samples`` fresh processes each,
    function and baseline."""
    missing = set(template.functions()) - set(FIRST_REQUESTS)
    if missing:
        raise KeyError(f"no first request for {sorted(missing)}: add them to FIRST_REQUESTS")
    compile_sources()
    rows = []
    for function_id, event_file in requests.items():
        spec = template.function(function_id)
        calls = first_calls(LambdaFunction(spec), event_file)
        made = describe([AwsCall("dynamodb", operation, {}) for operation, _ in calls])
        if not calls:
            calls, made = _substitute(), "none (baseline: one GetItem)"
        function_args = [FUNCTION_PROBE, spec.handler_module, str(event_file), str(spec.code_root)]
        baseline_args = [BASELINE_PROBE, json.dumps(calls)]
        function_samples, baseline_samples = [], []
        for _ in range(samples):  # alternately, so that both see the same machine
            function_samples.append(_run(function_args))
            baseline_samples.append(_run(baseline_args))
        total, baseline = _median(function_samples, "total_ms"), _median(baseline_samples, "total_ms")
        rows.append(
            {
                "function": function_id,
                "event": str(event_file.relative_to(EVENTS)),
                "calls": made,
                "import_ms": _median(function_samples, "import_ms"),
                "total_ms": total,
                "baseline_ms": baseline,
                "ratio": total / baseline,
            }
        )
    return rows


def _sam_build(build_dir: Path) -> None:
    sam = os.environ.get("SAM_CLI") or str(REPO_ROOT / ".venv-sam" / "bin" / "sam")
    environment = {
        name: value for name, value in os.environ.items() if name not in {"PYTHONPATH", "AWS_ENDPOINT_URL"}
    }
    # packaging/Makefile runs python3.13: this interpreter's.
    environment["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).resolve().parent), environment.get("PATH", "")]
    )
    done = subprocess.run(
        [sam, "build", "--build-dir", str(build_dir), "--no-cached"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])


def measure_artifact(template: Template, samples: int, function_id: str = "LeadsFunction") -> dict[str, Any]:
    """The cold start of one function from the artifact `sam build` makes, zipped and unpacked as
    Lambda does (1980-dated files, no bytecode written: Lambda's code folders are read-only):
    as SAM's own builder ships it (sources only: every module compiled at each cold start), and
    as packaging/Makefile ships it (hash-based bytecode), alternately with the bare client."""
    spec = template.function(function_id)
    event_file = FIRST_REQUESTS[function_id]
    (layer_id,) = template.resources_of_type("AWS::Serverless::LayerVersion")
    calls = first_calls(LambdaFunction(spec), event_file) or _substitute()
    with tempfile.TemporaryDirectory(prefix="bench-artifact-") as scratch:
        _sam_build(Path(scratch) / "build")
        after = lambda_artifact.unpack(Path(scratch) / "build", layer_id, Path(scratch) / "hash-based")
        lambda_artifact.use_host_native_code(after)
        before = Path(scratch) / "sources-only"
        shutil.copytree(after, before)
        lambda_artifact.without_bytecode(before)
        runs: dict[str, list[dict[str, float]]] = {"before": [], "after": [], "baseline": []}
        for _ in range(samples):
            for name, root in (("before", before), ("after", after)):
                code = root / function_id
                probe = [FUNCTION_PROBE, spec.handler_module, str(event_file), str(code)]
                runs[name].append(_run(probe, layer=root / "opt" / "python", flags=("-B",)))
            runs["baseline"].append(_run([BASELINE_PROBE, json.dumps(calls)]))
    baseline = _median(runs["baseline"], "total_ms")
    return {
        "function": function_id,
        "event": str(event_file.relative_to(EVENTS)),
        "before_ms": _median(runs["before"], "total_ms"),
        "after_ms": _median(runs["after"], "total_ms"),
        "baseline_ms": baseline,
    }
