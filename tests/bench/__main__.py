"""``make bench``: timings that tests must not assert, reported as medians and ratios against a
baseline measured in the same run, and DynamoDB counts per route. Prints Markdown tables for the
README's "Benchmarks" section (progress goes to stderr; the functions' own log lines and metrics,
which Lambda would write to CloudWatch, are produced but discarded).

    python -m tests.bench                  # everything (about 20 minutes on 2 cores)
    python -m tests.bench --quick          # small sizes, few samples: a minute or two
    python -m tests.bench --only warm costs
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any, TextIO

SECTIONS = ("cold", "warm", "csv", "costs")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few samples (a smoke run)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--samples", type=int, help="fresh processes per cold start (default 7; quick 2)")
    parser.add_argument("--requests", type=int, help="warm requests per route (default 30; quick 3)")
    parser.add_argument("--leads", type=int, nargs="+", help="tenant sizes of the counts (1000 10000)")
    parser.add_argument("--csv-rows", type=int, nargs="+", help="CSV sizes for memory (10000 100000)")
    parser.add_argument("--csv-timed", type=int, nargs="+", help="CSV sizes also timed (10000)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.samples = args.samples or (2 if quick else 7)
    args.requests = args.requests or (3 if quick else 30)
    args.leads = args.leads or ([20, 200] if quick else [1000, 10000])
    args.csv_rows = args.csv_rows or ([500] if quick else [10000, 100000])
    # Speed at 10,000 rows only by default: at 100,000 the emulator's cost dominates and the
    # run alone takes over ten minutes on 2 cores (see the README); ask for it with --csv-timed.
    args.csv_timed = args.csv_timed or ([500] if quick else [10000])
    return args


@contextlib.contextmanager
def _section(name: str) -> Iterator[None]:
    started = time.perf_counter()
    print(f"bench: {name}...", file=sys.stderr, flush=True)
    yield
    print(f"bench: {name} took {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None, out: TextIO | None = None) -> dict[str, Any]:
    """Run the sections asked for; print their tables to ``out`` (stdout); return the rows."""
    args = _arguments(argv)
    report = out or sys.stdout
    # Before any handler module is imported: Powertools' Logger binds to sys.stdout when created.
    with open(os.devnull, "w") as discarded, contextlib.redirect_stdout(discarded):
        results = _run(args)
    _print(results, args, report)
    return results


def _run(args: argparse.Namespace) -> dict[str, Any]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
    from devstack.emulator import start_emulator
    from devstack.stack import LOCAL_PARAMETERS, RUNTIME_ENVIRONMENT, functions_environment
    from devstack.template import Template

    emulator = start_emulator(Template.load(parameter_overrides=LOCAL_PARAMETERS))
    saved = dict(os.environ)
    results: dict[str, Any] = {}
    try:
        os.environ.update(
            {**functions_environment(emulator.template), **emulator.client_environment, **RUNTIME_ENVIRONMENT}
        )
        from devstack.runtime import LambdaFunction
        from devstack.seed import seed_demo_data
        from tests.bench import cold_start, csv_throughput, route_costs, warm_overhead
        from tests.bench.workload import Api

        seed_demo_data()  # the sample events of the cold starts read it
        functions = {fid: LambdaFunction(spec) for fid, spec in emulator.template.functions().items()}
        api = Api(emulator.template, functions)
        # The order matters: the emulator groups its whole table by index partition after each
        # write, so the sections that time requests run before the ones that fill the table.
        if "cold" in args.only:
            with _section("cold starts"):
                results["cold"] = cold_start.measure(emulator.template, args.samples)
            with _section("cold start from the built artifact"):
                results["artifact"] = cold_start.measure_artifact(emulator.template, args.samples)
        if "warm" in args.only:
            with _section("warm overhead"):
                results["warm"] = warm_overhead.measure(api, args.requests)
        if "csv" in args.only:
            with _section("CSV import and export"):
                results["csv"] = csv_throughput.measure(args.csv_rows, set(args.csv_timed))
        if "costs" in args.only:
            with _section("DynamoDB counts per route"):
                results["costs"] = route_costs.measure(api, args.leads)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        emulator.stop()
    return results


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _print(results: dict[str, Any], args: argparse.Namespace, out: TextIO) -> None:
    def say(line: str = "") -> None:
        print(line, file=out)

    say(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), "
        f"Python {platform.python_version()}; "
        f"emulator: moto {version('moto')} in server mode on 127.0.0.1 (a thread of the benchmark's process)."
    )
    say()
    if "cold" in results:
        say(f"Cold start: medians of {args.samples} fresh processes each, function and baseline alternately.")
        say()
        say("| function (first request) | DynamoDB requests | import (ms) | import + first request (ms) "
            "| baseline: bare client + same requests (ms) | ratio |")  # fmt: skip
        say("|---|---|---|---|---|---|")
        for row in results["cold"]:
            say(
                f"| {row['function']} (`{row['event']}`) | {row['calls']} | {row['import_ms']:.0f} "
                f"| {row['total_ms']:.0f} | {row['baseline_ms']:.0f} | {row['ratio']:.2f}x |"
            )
        say()
    if "artifact" in results:
        row = results["artifact"]
        say(
            f"Cold start from the zipped artifact (`sam build`, files dated 1980 as Lambda unpacks them, "
            f"no bytecode written): {row['function']} (`{row['event']}`), medians of {args.samples}."
        )
        say()
        say("| artifact | import + first request (ms) | ratio to the bare client |")
        say("|---|---|---|")
        for label, key in (
            ("sources only (SAM's python builder)", "before_ms"),
            ("hash-based bytecode (packaging/Makefile)", "after_ms"),
        ):
            say(f"| {label} | {row[key]:.0f} | {row[key] / row['baseline_ms']:.2f}x |")
        say(f"| bare boto3 client, same requests | {row['baseline_ms']:.0f} | 1.00x |")
        say()
    if "warm" in results:
        say(f"Warm overhead: medians of {args.requests} requests per route (after one not counted).")
        say()
        say(
            "| route | DynamoDB requests (replayed) | route (ms) | raw calls (ms) | ratio | replays refused |"
        )
        say("|---|---|---|---|---|---|")
        for row in results["warm"]:
            calls = row["calls"] + (f"; and {row['others']}" if row["others"] != "none" else "")
            refused = f"{row['refused']}/{row['replayed']}" if row["replayed"] else "-"
            say(
                f"| `{row['route']}` | {calls} | {_ms(row['route_ms'])} | {_ms(row['raw_ms'])} "
                f"| {_ratio(row['ratio'])} | {refused} |"
            )
        say()
    if "csv" in results:
        say("| CSV rows | import rows/s | plain batch_writer rows/s | ratio | export rows/s "
            "| import peak MiB | export peak MiB |")  # fmt: skip
        say("|---|---|---|---|---|---|---|")
        for row in results["csv"]:
            speed = "| n/a | n/a | n/a | n/a "
            if "import_rps" in row:
                speed = (
                    f"| {row['import_rps']:,.0f} | {row['baseline_rps']:,.0f} | "
                    f"{row['import_rps'] / row['baseline_rps']:.2f}x | {row['export_rps']:,.0f} "
                )
            say(f"| {row['rows']:,} {speed}| {row['import_peak_mb']:.1f} | {row['export_peak_mb']:.1f} |")
        say()
    if "costs" in results:
        sizes = " | ".join(f"{size:,} leads: requests / items read" for size in args.leads)
        say(f"| route | {sizes} | grows with the data |")
        say("|---|" + "---|" * len(args.leads) + "---|")
        for row in results["costs"]:
            counts = " | ".join(f"{cost['requests']} / {cost['items_read']:,}" for cost in row["costs"])
            say(f"| `{row['route']}` | {counts} | {'**yes**' if row['grows'] else 'no'} |")
        say()


if __name__ == "__main__":
    main()
