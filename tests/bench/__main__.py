"""``make bench``: timings that tests must not assert, reported as medians and ratios against a
baseline measured in the same run. Prints a Markdown table for the README."""

from __future__ import annotations

import os
import platform
from importlib.metadata import version
from pathlib import Path

from tests.bench import cold_start, csv_throughput
from tests.devstack.emulator import start_emulator
from tests.devstack.stack import LOCAL_PARAMETERS, RUNTIME_ENVIRONMENT, functions_environment
from tests.devstack.template import Template

EVENTS = Path(__file__).resolve().parents[2] / "events"
FIRST_REQUESTS = {
    "LeadsFunction": EVENTS / "leads" / "get.json",
    "MetaFunction": EVENTS / "meta" / "health.json",
}


def main() -> None:
    emulator = start_emulator(Template.load(parameter_overrides=LOCAL_PARAMETERS))
    try:
        os.environ.update(
            {**functions_environment(emulator.template), **emulator.client_environment, **RUNTIME_ENVIRONMENT}
        )
        from tests.devstack.seed import seed_demo_data

        seed_demo_data()
        rows = cold_start.measure(emulator.template, {k: str(v) for k, v in FIRST_REQUESTS.items()})
        csv_rows = csv_throughput.measure()
    finally:
        emulator.stop()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"emulator: moto {version('moto')} server on 127.0.0.1; {cold_start.SAMPLES} fresh processes each.\n"
    )
    print("| cold start | import (median ms) | import + first request (median ms) | ratio to baseline |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row['what']} | {row['import_ms']:.0f} | {row['total_ms']:.0f} | {row['ratio']:.2f}x |")
    print()
    print(
        "| CSV rows | import rows/s | plain batch_writer rows/s | ratio | export rows/s "
        "| import peak MiB | export peak MiB |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in csv_rows:
        speed = "| n/a | n/a | n/a | n/a "
        if "import_rps" in row:
            speed = (
                f"| {row['import_rps']:,.0f} | {row['baseline_rps']:,.0f} | "
                f"{row['import_rps'] / row['baseline_rps']:.2f}x | {row['export_rps']:,.0f} "
            )
        print(f"| {row['rows']:,} {speed}| {row['import_peak_mb']:.1f} | {row['export_peak_mb']:.1f} |")


if __name__ == "__main__":
    main()
