"""Import and export throughput and memory, each run in a fresh process against the emulator
(which runs in the parent: its own memory is not counted).

- import rows/s (at the sizes asked for): the worker importing an uploaded file (parse, validate,
  dedupe, BatchWriteItem, checkpoints), against a plain boto3 ``batch_writer`` of the same lead
  items (the floor: what writing alone costs), in the same run; export rows/s likewise (the
  export reads through index Queries, which the emulator answers from its partition, after
  grouping the table's items once per write: devstack/moto_speed.py);
- peak memory (every size): ``tracemalloc``'s peak of Python allocations while importing or
  exporting: what must stay flat as files grow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Collection
from typing import Any

from devstack.template import REPO_ROOT
from tests.bench.workload import upload

PROBE = textwrap.dedent(
    """
    import json, sys, time, tracemalloc
    what, tenant, key = sys.argv[1], sys.argv[2], sys.argv[3]
    from leads_shared import csv_export, import_worker, lead_listing
    from leads_shared.auth import Principal
    from leads_shared.data import (get_blob_store, get_directory_store, get_import_store,
                                   get_lead_store)
    from leads_shared.data.lead_store import lead_to_item
    from leads_shared.models.leads import Lead
    trace = "--memory" in sys.argv
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    if what == "import":
        job = import_worker.run_upload(key, get_import_store(), get_lead_store(), get_directory_store(),
                                       get_blob_store())
        rows = job.created
        assert job.status == "completed", job
    elif what == "export":
        admin = Principal(user_id=1, tenant_id=tenant, role="admin")
        out = csv_export.export_leads(admin, lead_listing.LeadQuery(), get_lead_store(),
                                      get_directory_store(), get_blob_store())
        rows = out.row_count
    else:  # the baseline: boto3's batch_writer of the same lead items
        import boto3
        table = boto3.resource("dynamodb").Table(get_lead_store().table)
        count = int(key)
        leads = (Lead(tenant_id=tenant, id=n + 1, first_name=f"First{n}", last_name="Last",
                      email=f"lead{n}@example.com", status="new", created_at="2026-01-01T00:00:00.000000Z",
                      updated_at="2026-01-01T00:00:00.000000Z") for n in range(count))
        from boto3.dynamodb.types import TypeDeserializer
        plain = TypeDeserializer()
        with table.batch_writer() as writer:
            for lead in leads:
                writer.put_item(Item={k: plain.deserialize(v) for k, v in lead_to_item(lead).items()})
        rows = count
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    print(json.dumps({"rows": rows, "seconds": elapsed, "peak_bytes": peak}))
    """
)


def _probe(environment: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=REPO_ROOT, env=environment, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(sizes: list[int], timed: Collection[int]) -> list[dict[str, Any]]:
    """Peak memory at every size; rows/s (and the baseline's) at the sizes in ``timed``."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([".", "layers/shared"]),
        "LOG_LEVEL": "ERROR",
        "DYNAMODB_READ_TIMEOUT_SECONDS": "120",  # the emulator, at 100k+ items
    }
    rows = []
    for count in sizes:
        tenant = f"bench-{count}-{uuid.uuid4().hex[:6]}"
        imported = _probe(environment, "import", tenant, upload(tenant, count), "--memory")
        exported = _probe(environment, "export", tenant, "-", "--memory")
        row: dict[str, Any] = {
            "rows": count,
            "imported": imported["rows"],  # what the worker created and the export wrote
            "exported": exported["rows"],
            "import_peak_mb": imported["peak_bytes"] / 2**20,
            "export_peak_mb": exported["peak_bytes"] / 2**20,
        }
        if count in timed:
            timed_tenant = f"{tenant}-t"
            imported_timed = _probe(environment, "import", timed_tenant, upload(timed_tenant, count))
            baseline = _probe(environment, "baseline", f"{tenant}-floor", str(count))
            export_timed = _probe(environment, "export", timed_tenant, "-")
            row.update(
                import_rps=imported_timed["rows"] / imported_timed["seconds"],
                baseline_rps=baseline["rows"] / baseline["seconds"],
                export_rps=export_timed["rows"] / export_timed["seconds"],
            )
        rows.append(row)
    return rows
