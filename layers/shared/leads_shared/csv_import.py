"""CSV import: start a job (presigned upload, or a small file posted to the API), read its
status, and run it (the worker, on the upload's S3 event).

Exactly once, though S3 and SQS deliver at least once and a worker may die half-way:
- a finished job is never run again; a job in progress is resumed by the next delivery;
- the job is bound to the version of the upload it first read (a re-posted form is ignored);
- the job's lead ids are reserved once, up front (one atomic ``ADD``): row *n* of the file
  becomes lead ``id_base + n``, never a second lead;
- rows go in chunks of 97: a chunk's new leads (each on condition that its id is new), its
  counts and the tenant's lead counters are one transaction on condition that the job's
  ``next_chunk`` still is that chunk: a lead appears exactly when it is counted, and once;
- an update (``mode=update``) marks the lead with its row (``last_import``): a retry sees it done.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import IO, Any

from pydantic import ValidationError

from leads_shared.auth import Principal
from leads_shared.clock import format_timestamp, utc_now
from leads_shared.config import get_settings
from leads_shared.csv_format import IMPORT_COLUMNS, CsvFileError, CsvWriter, read_rows
from leads_shared.data.blob_store import BlobStore
from leads_shared.data.directory_store import DirectoryStore
from leads_shared.data.import_store import ImportStore
from leads_shared.data.lead_store import LeadStore, counter_deltas, lead_to_item
from leads_shared.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    selected_invalid,
)
from leads_shared.http_errors import field_errors, invalid_input
from leads_shared.keys import LeadKeys
from leads_shared.leads import apply_changes
from leads_shared.models.directory import User
from leads_shared.models.imports import (
    ImportJob,
    ImportOut,
    ImportRequest,
    ImportStarted,
    RowError,
    UploadForm,
)
from leads_shared.models.leads import Lead, LeadCreate
from leads_shared.observability import logger
from leads_shared.versioning import next_version, without_lost_updates

# A chunk's new leads, its job update and the counters are one transaction (100 items at most).
CHUNK_ROWS = 97
ERRORS_KEPT = 100
_KEY = re.compile(r"imports/(?P<tenant>[A-Za-z0-9_.-]{1,64})/(?P<job>[0-9a-f]{32})\.csv")
REPORT_COLUMNS = ("line", "outcome", "field", "message", *IMPORT_COLUMNS)


def upload_key(tenant_id: str, import_id: str) -> str:
    return f"imports/{tenant_id}/{import_id}.csv"


def _expires_at(seconds: int) -> str:
    return format_timestamp(datetime.now(UTC) + timedelta(seconds=seconds))


# ------------------------------------------------------------------ API side
def _new_job(principal: Principal, request: ImportRequest, status: str) -> ImportJob:
    import_id = uuid.uuid4().hex
    return ImportJob(
        tenant_id=principal.tenant_id,
        import_id=import_id,
        status=status,  # type: ignore[arg-type]
        mode=request.mode,
        dry_run=request.dry_run,
        filename=request.filename,
        key=upload_key(principal.tenant_id, import_id),
        created_by=principal.user_id,
        created_at=utc_now(),
    )


def start_import(
    principal: Principal, request: ImportRequest, imports: ImportStore, blobs: BlobStore
) -> ImportStarted:
    """A job waiting for its file, and a presigned POST that uploads it straight to S3."""
    settings = get_settings()
    job = _new_job(principal, request, "pending_upload")
    imports.create(job)
    post = blobs.presigned_post(job.key, settings.import_max_bytes, settings.url_expiry_seconds)
    upload = UploadForm(
        url=post.url,
        fields=post.fields,
        expires_at=_expires_at(settings.url_expiry_seconds),
        max_bytes=settings.import_max_bytes,
    )
    return ImportStarted(**import_out(job, blobs).model_dump(), upload=upload)


def parse_request(body: str | None, content_type: str | None = None) -> ImportRequest:
    """The JSON body of ``POST /leads/import`` (none: the defaults). Malformed JSON: 400; a body
    of another media type (text/plain, a urlencoded form, ...): 415, as on the other routes."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if body and body.strip() and media_type not in ("", "application/json"):
        raise UnsupportedMediaType()
    try:
        return ImportRequest.model_validate_json(body or "{}")
    except ValidationError as exc:
        raise invalid_input(exc.errors()) from None


@dataclass(frozen=True)
class PostedFile:
    request: ImportRequest
    content: bytes


def parse_form(content_type: str, body: bytes) -> PostedFile:
    """A ``multipart/form-data`` body: the ``file`` part and the optional ``filename``, ``mode``
    and ``dry_run`` fields (standard library parser)."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ValidationFailed({"file": ["The request must be multipart/form-data with a file field."]})
    fields: dict[str, str] = {}
    content: bytes | None = None
    filename: str | None = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes):
            continue
        if name == "file":
            content, filename = payload, part.get_filename()
        else:
            fields[name] = payload.decode("utf-8", "replace")
    if content is None:
        raise ValidationFailed({"file": ["The file field is required."]})
    fields.setdefault("filename", filename or "")
    try:
        request = ImportRequest.model_validate(fields)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc.errors())) from None
    return PostedFile(request, content)


def upload_import(
    principal: Principal, posted: PostedFile, imports: ImportStore, blobs: BlobStore
) -> ImportStarted:
    """A small file posted to the API: put where a presigned upload would have put it (its S3
    event starts the worker the same way)."""
    if len(posted.content) > get_settings().direct_upload_max_bytes:
        raise PayloadTooLarge(get_settings().direct_upload_max_bytes)
    job = _new_job(principal, posted.request, "queued")
    imports.create(job)
    blobs.put(job.key, posted.content)
    return ImportStarted(**import_out(job, blobs).model_dump(), upload=None)


def get_import(principal: Principal, import_id: str, imports: ImportStore, blobs: BlobStore) -> ImportOut:
    job = imports.get(principal.tenant_id, import_id) if re.fullmatch(r"[0-9a-f]{32}", import_id) else None
    if job is None:
        raise NotFound("Import")
    return import_out(job, blobs)


def import_out(job: ImportJob, blobs: BlobStore) -> ImportOut:
    url = None
    if job.report_key:
        url = blobs.download_url(
            job.report_key, f"import_{job.import_id}_errors.csv", get_settings().url_expiry_seconds
        )
    return ImportOut(**job.model_dump(), error_report_url=url)


# ------------------------------------------------------------------ the worker
@dataclass(frozen=True)
class _Update:
    lead_id: int
    changes: dict[str, Any]
    marker: str  # "<import id>#<row index>", kept on the lead as last_import
    line: int
    values: dict[str, str | None]


@dataclass
class _Chunk:
    number: int
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("total_rows", "created", "updated", "skipped", "failed"), 0)
    )
    new: list[Lead] = field(default_factory=list)
    updates: list[_Update] = field(default_factory=list)


@dataclass
class _Run:
    job: ImportJob
    users: dict[int, User]
    existing: dict[str, int]
    report: IO[bytes]
    writer: CsvWriter = field(default_factory=lambda: CsvWriter(REPORT_COLUMNS))
    seen: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    reported: int = 0
    totals: dict[str, int] = field(default_factory=dict)

    def reject(
        self, line: int, outcome: str, problems: dict[str, list[str]], values: dict[str, str | None]
    ) -> None:
        for field_name, messages in problems.items():
            for message in messages:
                if len(self.errors) < ERRORS_KEPT:
                    self.errors.append(RowError(row=line, field=field_name, message=message))
                cells = {"line": line, "outcome": outcome, "field": field_name, "message": message, **values}
                self.report.write(self.writer.row(cells))
                self.reported += 1


def parse_key(key: str) -> tuple[str, str] | None:
    match = _KEY.fullmatch(key)
    return (match["tenant"], match["job"]) if match else None


def run_upload(
    key: str, imports: ImportStore, leads: LeadStore, directory: DirectoryStore, blobs: BlobStore
) -> ImportJob | None:
    """Import the file at ``key`` (an S3 ``ObjectCreated`` event). Not an import, an unknown job,
    or a finished job: nothing to do. A file that cannot be imported as a whole: the job fails
    with the reason. DynamoDB or S3 failing: raises, so the event is delivered again."""
    found = parse_key(key)
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
        return imports.finish(claimed, status="failed", failure_reason=problem.reason, finished_at=utc_now())


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
    existing = {
        row["email"].strip().lower(): row["id"]
        for row in leads.iter_rows(LeadKeys.by_creation(job.tenant_id))
        if row.get("email") and row["id"] not in own
    }
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
            _decide(run, chunk, index, row.line, row.values)
        _flush(run, chunk, imports, leads)
        report_key = None
        if run.reported:
            report.seek(0)
            report_key = f"tmp/reports/{job.tenant_id}/{job.import_id}.csv"
            blobs.write_parts(report_key, _parts(report))
    final: dict[str, Any] = {
        "status": "completed",
        "errors": run.errors,
        "unknown_columns": read.unknown_columns,
        "report_key": report_key,
        "finished_at": utc_now(),
    }
    if job.dry_run:
        final.update(run.totals)
    logger.info("import finished", extra={"import_id": job.import_id, "attempts": job.attempts})
    return imports.finish(job, **final)


def _parts(report: IO[bytes]) -> Iterator[bytes]:
    while part := report.read(8 * 1024 * 1024):
        yield part


def _decide(run: _Run, chunk: _Chunk, index: int, line: int, values: dict[str, str | None]) -> None:
    """What becomes of one row: created, updated, skipped (duplicate email) or failed."""
    chunk.counts["total_rows"] += 1
    given = {name: value for name, value in values.items() if value is not None}
    try:
        data = LeadCreate.model_validate(given)
    except ValidationError as exc:
        problems = field_errors(exc.errors())
        chunk.counts["failed"] += 1
        run.reject(line, "failed", problems, values)
        return
    if data.assigned_to is not None and data.assigned_to not in run.users:
        chunk.counts["failed"] += 1
        run.reject(line, "failed", {"assigned_to": [selected_invalid("assigned_to")]}, values)
        return
    email = data.email.strip().lower() if data.email else None
    if email is not None and email in run.seen:
        chunk.counts["skipped"] += 1
        run.reject(
            line, "skipped", {"email": [f"Duplicate email: the same as line {run.seen[email]}."]}, values
        )
        return
    if email is not None:
        run.seen[email] = line
    if email is not None and email in run.existing:
        if run.job.mode == "skip":
            chunk.counts["skipped"] += 1
            run.reject(
                line, "skipped", {"email": [f"Duplicate email: lead {run.existing[email]} has it."]}, values
            )
            return
        changes = {name: getattr(data, name) for name in given if name in LeadCreate.model_fields}
        chunk.counts["updated"] += 1
        marker = f"{run.job.import_id}#{index}"
        chunk.updates.append(_Update(run.existing[email], changes, marker, line, values))
        return
    chunk.counts["created"] += 1
    if run.job.dry_run:
        return
    if index >= (run.job.id_count or 0):  # cannot happen with the file pinned: never write outside
        raise CsvFileError("The file changed during its import; please start a new import.")
    user = run.users.get(data.assigned_to) if data.assigned_to is not None else None
    started = run.job.started_at or run.job.created_at
    chunk.new.append(
        Lead(
            tenant_id=run.job.tenant_id,
            id=(run.job.id_base or 0) + index,
            **data.model_dump(),
            assigned_to_name=user.name if user else None,
            last_import=f"{run.job.import_id}#{index}",
            created_at=started,
            updated_at=started,
        )
    )


def _flush(run: _Run, chunk: _Chunk, imports: ImportStore, leads: LeadStore) -> None:
    """Write a chunk and apply its counts, once (an earlier attempt may have done both)."""
    applied_before = chunk.number < run.job.next_chunk
    for update in chunk.updates:
        refused = _update(run, update, leads, write=not run.job.dry_run)
        if refused:  # the lead's own rules refuse the change (PUT would answer 409)
            chunk.counts["updated"] -= 1
            chunk.counts["failed"] += 1
            run.reject(update.line, "failed", {"status": [refused]}, update.values)
    for name, value in chunk.counts.items():
        run.totals[name] = run.totals.get(name, 0) + value
    if run.job.dry_run or applied_before or not chunk.counts["total_rows"]:
        return
    deltas: dict[str, int] = {}
    for lead in chunk.new:
        for name, delta in counter_deltas(None, lead).items():
            deltas[name] = deltas.get(name, 0) + delta
    new_items = [lead_to_item(lead) for lead in chunk.new]
    imports.checkpoint(run.job, chunk.number, chunk.counts, {k: v for k, v in deltas.items() if v}, new_items)


def _update(run: _Run, update: _Update, leads: LeadStore, *, write: bool) -> str | None:
    """Apply one row to its existing lead as PUT would (same rules, and no lost update), once:
    the lead keeps the row's marker. The reason when the row cannot be applied, else None."""

    def attempt() -> None:
        current = leads.get(run.job.tenant_id, update.lead_id)
        if current is None or current.last_import == update.marker:
            return  # deleted meanwhile, or this very row was applied by an earlier attempt
        assigned = update.changes.get("assigned_to")
        user = run.users.get(assigned) if assigned is not None else None
        now = utc_now()
        updated = apply_changes(current, update.changes, user, now)
        if write:
            updated.last_import = update.marker
            leads.replace(current, next_version(current, updated, now))

    try:
        without_lost_updates(attempt, None)
    except Conflict as refused:  # a converted lead's status, or a lead changed by others all along
        return refused.message
    return None
