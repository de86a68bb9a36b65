"""The backfill of the leads' index entries: a stack deployed before the entries existed has leads
without them (a lead written since has them: every write writes all of its lead's entries). The
backfill writes them, so a deployed stack upgrades in place.

- **Idempotent.** A lead is written with its entries in one transaction on condition that its
  version is still the one read and that it has no entries yet, or older ones (the lead item's
  ``entries`` marker below ``lead_entries.ENTRIES_VERSION``: version 2 added the match entries
  of ``GET /leads/{id}/duplicates``, so a run after that upgrade writes them for the leads
  marked 1): a lead written meanwhile (it has its entries then) or deleted is left alone, and a
  second run writes nothing.
- **Resumable.** A tenant's leads are read a page of its LIST index at a time; a run stops at
  its deadline and answers where the next one starts (the page's last key). Runs are SQS
  messages (``functions/index_backfill``), each sending the next until the tenant is done.
- **Cost.** Per lead without entries: its read (a BatchGetItem per 100), and one transaction of
  up to 26 items (the lead's marker and its entries: 2 write units each, a transaction's price).
  At 1,000,000 leads: ~10,000 LIST pages of 100 rows, 10,000 BatchGetItem, 1,000,000
  transactions, ~40 M write units (docs/data-model.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from leads_shared.data.lead_store import LeadStore

# Leads read per LIST page (and per BatchGetItem).
PAGE_LEADS = 100


@dataclass
class BackfillRun:
    """What one run did, and where the next starts (None: the tenant is done)."""

    tenant_id: str
    read: int = 0
    written: int = 0
    skipped: int = 0  # written or deleted meanwhile, or indexed already
    next_start: dict[str, Any] | None = field(default=None)


def backfill_tenant(
    leads: LeadStore,
    tenant_id: str,
    start: dict[str, Any] | None = None,
    *,
    time_left: Callable[[], float] = lambda: float("inf"),
    stop_below: float = 60.0,
) -> BackfillRun:
    """Write the entries of the tenant's leads that have none, from ``start`` (a LIST key, as a
    previous run answered) until done or until ``time_left()`` (seconds) is under
    ``stop_below``."""
    run = BackfillRun(tenant_id)
    position = start
    while True:
        read, without, position = leads.page_without_entries(tenant_id, position, PAGE_LEADS)
        run.read += read
        run.skipped += read - len(without)
        for lead in without:
            if leads.write_entries(lead):
                run.written += 1
            else:
                run.skipped += 1
        if position is None:
            return run
        if time_left() < stop_below:
            run.next_start = position
            return run


def deadline_in(seconds: float) -> Callable[[], float]:
    """A ``time_left`` for a run outside Lambda (a script, a test)."""
    end = time.monotonic() + seconds
    return lambda: end - time.monotonic()


def tenants(leads: LeadStore) -> list[str]:
    """Every tenant with leads (its counters item), by a Scan of the table: a one-off's read."""
    return leads.tenants_with_leads()


def main(argv: list[str] | None = None) -> None:
    """``python -m leads_shared.index_backfill --table <LeadsTable> [--tenant t] [--start JSON]``:
    backfill every tenant (or one), printing each run's outcome and, when a deadline stops it,
    the ``--tenant``/``--start`` to resume with."""
    import argparse
    import json

    from leads_shared.data.lead_store import LeadStore

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--table", required=True, help="the stack's LeadsTable name")
    parser.add_argument("--tenant", help="only this tenant")
    parser.add_argument("--start", help="where a stopped run stopped (JSON, as it printed)")
    parser.add_argument("--minutes", type=float, default=0, help="stop after this long (0: no limit)")
    options = parser.parse_args(argv)
    store = LeadStore(options.table)
    time_left = deadline_in(options.minutes * 60) if options.minutes else (lambda: float("inf"))
    start = json.loads(options.start) if options.start else None
    for tenant_id in [options.tenant] if options.tenant else tenants(store):
        run = backfill_tenant(store, tenant_id, start, time_left=time_left, stop_below=0)
        start = None
        print(
            json.dumps(
                {"tenant": run.tenant_id, "read": run.read, "written": run.written, "skipped": run.skipped}
            )
        )
        if run.next_start is not None:
            print(f"stopped: resume with --tenant {tenant_id} --start '{json.dumps(run.next_start)}'")
            return


if __name__ == "__main__":
    main()
