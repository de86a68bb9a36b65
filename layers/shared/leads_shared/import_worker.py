"""The CSV import worker: an upload's S3 event becomes imported leads (``run_upload``).

Exactly once, though S3 and SQS deliver at least once and a worker may die half-way:
- a finished job is never run again; a job in progress is resumed by the next delivery;
- the job is bound to the version of the upload it first read (a re-posted form is ignored);
- the job's lead ids are reserved once, up front (one atomic ``ADD``): row *n* of the file
  becomes lead ``id_base + n``, never a second lead;
- rows go in chunks of ``CHUNK_ROWS`` (3): a chunk's new leads (each on condition that its id is new), its
  counts and the tenant's lead counters are one transaction on condition that the job's
  ``next_chunk`` still is that chunk: a lead appears exactly when it is counted, and once;
- an update (``mode=update``) marks the lead with its row (``last_import``): a retry sees it done.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from pydantic import ValidationError

from leads_shared.clock import utc_now
from leads_shared.csv_format import IMPORT_COLUMNS, CsvFileError, CsvRow, CsvWriter, read_rows
from leads_shared.data.history_items import history_to_item
from leads_shared.data.lead_counters import counter_deltas
from leads_shared.data.lead_entries import MAX_ENTRIES
from leads_shared.data.lead_store import LeadStore, stored_items
from leads_shared.data.sequences import IdTaken
from leads_shared.directory import check_assignable
from leads_shared.errors import Conflict, ValidationFailed
from leads_shared.import_duplicates import TenantEmails
from leads_shared.keys import ImportKeys
from leads_shared.lead_history import change, import_actor
from leads_shared.leads import apply_changes
from leads_shared.models.imports import ImportCounts, ImportJob, RowError, RowOutcome
from leads_shared.models.leads import Lead, LeadCreate
from leads_shared.observability import logger, metrics
from leads_shared.validation_messages import field_errors
from leads_shared.versioning import next_version, without_lost_updates

if TYPE_CHECKING:
    from leads_shared.data.blob_store import BlobStore
    from leads_shared.data.directory_store import DirectoryStore
    from leads_shared.data.import_store import ImportStore
    from leads_shared.models.directory import User

# A chunk's new leads with their index entries and their history's first change, its job update
# and the counters are one transaction (100 items at most): 3 rows of at most 25 items each.
# (Jobs started before the history had 4-row chunks, and before the entries 97-row ones: a job's
# chunks are numbered by this size, so deploy a change of it when no import is running.)
CHUNK_ROWS = (100 - 2) // (2 + MAX_ENTRIES)
ERRORS_KEPT = 100
REPORT_COLUMNS = ("row", "line", "outcome", "field", "message", *IMPORT_COLUMNS)
# A row of mode=update whose lead others keep changing is tried this often, waiting up to 50 ms
# before the second attempt, twice that before each next one, at most 5 s: about 2 minutes in
# all at worst, of the worker's 15.
UPDATE_ATTEMPTS = 30
UPDATE_BACKOFF_SECONDS = 0.05
STILL_CHANGING = (
    "Lead {lead_id} was being changed by others throughout the import ({attempts} attempts): "
    "the row was not applied. Import it again."
)
DELETED = "Lead {lead_id} was deleted during the import: the row was not applied."
IDS_TAKEN = (
    "Lead ids reserved for this import are in use by other leads; the rows before the failing "
    "chunk were imported. Please contact support."
)


@dataclass(frozen=True)
class _Update:
    lead_id: int
    changes: dict[str, Any]
    marker: str  # "<import id>#<row index>", kept on the lead as last_import
    row: CsvRow


@dataclass
class _Chunk:
    number: int
    counts: ImportCounts = field(default_factory=ImportCounts)
    new: list[Lead] = field(default_factory=list)
    updates: list[_Update] = field(default_factory=list)


@dataclass
class _Run:
    job: ImportJob
    users: dict[int, User]
    existing: TenantEmails
    report: IO[bytes]
    writer: CsvWriter = field(default_factory=lambda: CsvWriter(REPORT_COLUMNS))
    seen: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    reported: int = 0
    totals: ImportCounts = field(default_factory=ImportCounts)

    def reject(self, chunk: _Chunk, row: CsvRow, outcome: RowOutcome, problems: dict[str, list[str]]) -> None:
        """Count the row as skipped or failed, and report why (the job's first errors, the report)."""
        chunk.counts.count(outcome)
        for field_name, messages in problems.items():
            for message in messages:
                where = {"row": row.row, "line": row.line}
                if len(self.errors) < ERRORS_KEPT:
                    self.errors.append(RowError(**where, field=field_name, message=message))
                cells = {**where, "outcome": outcome, "field": field_name, "message": message, **row.values}
                self.report.write(self.writer.row(cells))
                self.reported += 1


def run_upload(
    key: str, imports: ImportStore, leads: LeadStore, directory: DirectoryStore, blobs: BlobStore
) -> ImportJob | None:
    """Import the file at ``key`` (an S3 ``ObjectCreated`` event). Not an import, an unknown job,
    or a finished job: nothing to do. A file that cannot be imported as a whole: the job fails
    with the reason. DynamoDB or S3 failing: raises, so the event is delivered again."""
    found = ImportKeys.of_upload(key)
    job = imports.get(*found) if found else None
    if job is None:
        logger.warning("upload without an import job", extra={"key": key})
        return None
    if job.finished:
        logger.info("import already finished", extra={"import_id": job.import_id})
        return job
    claimed = imports.claim(job, utc_now())
    if claimed is None:
        return imports.get(job.tenant_id, job.import_id)
    try:
        return _run(claimed, imports, leads, directory, blobs)
    except CsvFileError as problem:
        logger.info("import refused", extra={"import_id": job.import_id, "reason": problem.reason})
        return _failed(imports, claimed, problem.reason)
    except IdTaken:
        logger.error("import ids taken", extra={"import_id": job.import_id})
        return _failed(imports, claimed, IDS_TAKEN)


def _failed(imports: ImportStore, job: ImportJob, reason: str) -> ImportJob:
    """Record the job failed, then count it (a redelivered message finds it finished: counted
    once). ImportFailed is alarmed (docs/operations.md)."""
    failed = imports.finish(job, status="failed", failure_reason=reason, finished_at=utc_now())
    metrics.add_metric(name="ImportFailed", unit="Count", value=1)
    return failed


def _run(
    job: ImportJob, imports: ImportStore, leads: LeadStore, directory: DirectoryStore, blobs: BlobStore
) -> ImportJob:
    # The job is bound to the upload it first saw: the same form posted again (a new version of
    # the key) cannot change what a resumed import reads.
    version = job.source_version or blobs.version(job.key)
    if not job.dry_run and job.id_base is None:
        # A first pass: how many ids, and every file-level error, before anything is written.
        count = sum(1 for _ in read_rows(blobs.chunks(job.key, version)))
        base = leads.reserve_ids(job.tenant_id, count) - count + 1 if count else 0
        job = imports.reserve_range(job, base, count, version)
        version = job.source_version or version
    read = read_rows(blobs.chunks(job.key, version))
    own = range(job.id_base or 0, (job.id_base or 0) + (job.id_count or 0))
    existing = TenantEmails(leads, job.tenant_id, besides=own)
    # only active users can be newly assigned
    users = {user.id: user for user in directory.users(job.tenant_id) if user.active}
    with tempfile.TemporaryFile() as report:
        run = _Run(job, users, existing, report)
        report.write(run.writer.header())
        chunk = _Chunk(0)
        for index, row in enumerate(read):
            if index // CHUNK_ROWS != chunk.number:
                _flush(run, chunk, imports, leads)
                chunk = _Chunk(index // CHUNK_ROWS)
            _decide(run, chunk, index, row)
        _flush(run, chunk, imports, leads)
        report_key = None
        if run.reported:
            report.seek(0)
            report_key = ImportKeys.report(job.tenant_id, job.import_id)
            blobs.write_parts(report_key, _parts(report))
    final: dict[str, Any] = {
        "status": "completed",
        "errors": run.errors,
        "unknown_columns": read.unknown_columns,
        "report_key": report_key,
        "finished_at": utc_now(),
    }
    if job.dry_run:
        final.update(run.totals.model_dump())
    dedupe = {"email_lookups": existing.lookups}
    logger.info("import finished", extra={"import_id": job.import_id, "attempts": job.attempts, **dedupe})
    return imports.finish(job, **final)


def _parts(report: IO[bytes]) -> Iterator[bytes]:
    while part := report.read(8 * 1024 * 1024):
        yield part


def _decide(run: _Run, chunk: _Chunk, index: int, row: CsvRow) -> None:
    """What becomes of one row: created, skipped (duplicate email) or failed now; an update of an
    existing lead is counted when the chunk applies it (``_flush``)."""
    given = {name: value for name, value in row.values.items() if value is not None}
    try:
        data = LeadCreate.model_validate(given)
        user = run.users.get(data.assigned_to) if data.assigned_to is not None else None
        check_assignable(user, data.assigned_to)
    except ValidationError as exc:
        run.reject(chunk, row, "failed", field_errors(exc.errors()))
        return
    except ValidationFailed as refused:
        run.reject(chunk, row, "failed", refused.errors)
        return
    email = data.email.strip().lower() if data.email else None
    if email is not None and email in run.seen:
        duplicate = f"Duplicate email: the same as row {run.seen[email]}."
        run.reject(chunk, row, "skipped", {"email": [duplicate]})
        return
    if email is not None:
        run.seen[email] = row.row
    existing = run.existing.lead_with(email) if email is not None else None
    if existing is not None:
        if run.job.mode == "skip":
            duplicate = f"Duplicate email: lead {existing} has it."
            run.reject(chunk, row, "skipped", {"email": [duplicate]})
            return
        changes = {name: getattr(data, name) for name in given if name in LeadCreate.model_fields}
        chunk.updates.append(_Update(existing, changes, marker_of(run.job, index), row))
        return
    chunk.counts.count("created")
    if run.job.dry_run:
        return
    if index >= (run.job.id_count or 0):  # cannot happen with the file pinned: never write outside
        raise CsvFileError("The file changed during its import; please start a new import.")
    started = run.job.started_at or run.job.created_at
    chunk.new.append(
        Lead(
            tenant_id=run.job.tenant_id,
            id=(run.job.id_base or 0) + index,
            **data.model_dump(),
            assigned_to_name=user.name if user else None,
            last_import=marker_of(run.job, index),
            created_at=started,
            updated_at=started,
        )
    )


def _flush(run: _Run, chunk: _Chunk, imports: ImportStore, leads: LeadStore) -> None:
    """Apply a chunk's updates, then write its new leads with its counts, once (an earlier
    attempt may have done both)."""
    for update in chunk.updates:
        refused = _update(run, update, leads, write=not run.job.dry_run)
        if refused:
            run.reject(chunk, update.row, "failed", refused)
        else:
            chunk.counts.count("updated")
    run.totals.add(chunk.counts)
    if run.job.dry_run or chunk.number < run.job.next_chunk or not chunk.counts.total_rows:
        return
    deltas: dict[str, int] = {}
    for lead in chunk.new:
        for name, delta in counter_deltas(None, lead).items():
            deltas[name] = deltas.get(name, 0) + delta
    actor = import_actor(run.job.import_id)
    new_items = [
        item
        for lead in chunk.new
        for item in [*stored_items(lead), history_to_item(change(None, lead, actor, "imported"))]
    ]
    written = imports.checkpoint(
        run.job, chunk.number, chunk.counts, {k: v for k, v in deltas.items() if v}, new_items
    )
    if not written:
        # Another attempt (a duplicate delivery running at the same time) committed this chunk:
        # its leads and counts are in, once. Follow the job as stored, so that the chunks it
        # committed already are not tried again.
        logger.info("chunk committed by another attempt", extra={"import_id": run.job.import_id})
        run.job = imports.get(run.job.tenant_id, run.job.import_id) or run.job


def marker_of(job: ImportJob, index: int) -> str:
    """What a lead keeps (``last_import``) of the row that wrote it last: a retry sees it done."""
    return f"{job.import_id}#{index}"


def _update(run: _Run, update: _Update, leads: LeadStore, *, write: bool) -> dict[str, list[str]] | None:
    """Apply one row to its existing lead as PUT would (same rules, and no lost update), once:
    the lead keeps the row's marker. A lead that others keep changing is read and written again,
    with growing waits (the worker has minutes, a request has seconds). Why the row was not
    applied (by field), else None."""

    def attempt() -> dict[str, list[str]] | None:
        current = leads.get(run.job.tenant_id, update.lead_id)
        if current is None:
            return {
                "email": [f"Lead {update.lead_id} was deleted during the import: the row was not applied."]
            }
        if current.last_import == update.marker:
            return None  # this very row was applied by an earlier attempt
        assigned = update.changes.get("assigned_to")
        user = run.users.get(assigned) if assigned is not None else None
        now = utc_now()
        try:
            updated = apply_changes(current, update.changes, user, now)
        except Conflict as refused:  # a converted lead's status (PUT would answer 409)
            return {"status": [refused.message]}
        if write:
            updated.last_import = update.marker
            updated = next_version(current, updated, now)
            leads.replace(current, updated, change(current, updated, import_actor(run.job.import_id)))
        return None

    try:
        return without_lost_updates(attempt, None, attempts=UPDATE_ATTEMPTS, backoff=UPDATE_BACKOFF_SECONDS)
    except Conflict:
        return {"email": [STILL_CHANGING.format(lead_id=update.lead_id, attempts=UPDATE_ATTEMPTS)]}
