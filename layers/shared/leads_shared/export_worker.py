"""The export worker: a queued export job's leads, streamed to S3 as one CSV (``run_message``).

Memory stays flat whatever the number of leads: rows are written into one part buffer of about
``PART_BYTES``, which is uploaded as a part of a multipart upload and dropped before the next
part starts (the leads come from ``lead_listing.all_leads``, which streams index-served orders a
Query page at a time; the other orders keep the narrow list's matching rows, ~200 bytes a lead).

At most once per job, though SQS delivers at least once:
- a run claims the job (queued, or running with no live lease) with a lease a little longer
  than its own time limit; a delivery that finds it done, failed or held does nothing;
- every write of a run (a part, progress, the end) is on condition that the job still carries
  the run's claim, so a run that lost its claim writes nothing more;
- each uploaded part is recorded with the leads written so far and the sort key of the last one.

Lambda's 15 minutes: after each part the run checks its remaining time; with less than
``TIME_RESERVE_MS`` left it gives the job back (queued, the parts kept) and queues a message
that continues it. The next run resumes the same multipart upload: it reads the leads in the
same order again and writes those after the recorded sort key (a resumed run reads what the
runs before it wrote, and writes each lead once). A run that dies (time out, out of memory)
holds its lease until it lapses; SQS then delivers its message again and that run resumes the
same way. Any other failure marks the job failed with its reason and aborts the upload.
"""

from __future__ import annotations

import functools
import io
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from leads_shared import lead_listing
from leads_shared.auth import Principal
from leads_shared.clock import utc_now
from leads_shared.csv_format import EXPORT_COLUMNS, CsvWriter
from leads_shared.errors import ServiceUnavailable
from leads_shared.keys import order_key
from leads_shared.models.exports import ExportJob, UploadedPart
from leads_shared.observability import logger, metrics

if TYPE_CHECKING:
    from leads_shared.data.directory_store import DirectoryStore
    from leads_shared.data.export_store import ExportStore
    from leads_shared.data.job_queue import JobQueue
    from leads_shared.data.lead_store import LeadStore
    from leads_shared.models.leads import Lead

# A part is uploaded once the buffer holds this much (S3: at least 5 MiB but the last).
PART_BYTES = 8 * 1024 * 1024
# Progress is recorded after each part, and every this many leads within one.
PROGRESS_EVERY = 10_000
# With less than this left of the invocation after a part, the job continues in a new run: time
# for one more part's reads and upload at the worst rates seen, and for the hand-over.
TIME_RESERVE_MS = 120_000
# A claim outlives its run by this much (a run that dies keeps others off until it lapses).
LEASE_MARGIN_SECONDS = 60
BUSY = "The data or file store stayed busy (reference {export_id}). Please start the export again."
UNEXPECTED = "The export failed unexpectedly (reference {export_id}). Please start it again."


class PartSink(Protocol):
    """Where parts go (``BlobStore``; a test's fake)."""

    def start_upload(self, key: str, content_type: str = ...) -> str: ...

    def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> str: ...

    def complete_upload(self, key: str, upload_id: str, parts: Iterable[tuple[int, str]]) -> None: ...

    def abort_upload(self, key: str, upload_id: str) -> None: ...


class LostClaim(Exception):
    """Another run holds the job now (or it finished): this run writes nothing more."""


class ContinueLater(Exception):
    """The job was handed over but its continuation could not be queued: the message must come
    back (SQS redelivers it, and that run resumes the job)."""


@dataclass(frozen=True)
class ExportRequest:
    """What a message names: one job of one tenant."""

    tenant_id: str
    export_id: str

    @classmethod
    def of(cls, body: Any) -> ExportRequest | None:
        if not isinstance(body, dict):
            return None
        tenant_id, export_id = body.get("tenant_id"), body.get("export_id")
        if not isinstance(tenant_id, str) or not isinstance(export_id, str):
            return None
        return cls(tenant_id, export_id)

    def message(self) -> dict[str, str]:
        return {"tenant_id": self.tenant_id, "export_id": self.export_id}


def principal_of(job: ExportJob) -> Principal:
    """Who started the job: its leads are those the starter's list would show."""
    return Principal(user_id=job.created_by, tenant_id=job.tenant_id, role=job.role, team_id=job.team_id)  # type: ignore[arg-type]


def sort_key_of(job: ExportJob) -> Callable[[Lead], str]:
    """A lead's key in the job's order (``keys.order_key``: the list's)."""
    return functools.partial(order_key, job.filters.sort_by)


class ExportRun:
    """One run of one job: holds its claim, writes its parts, and knows the job's latest state."""

    def __init__(
        self,
        job: ExportJob,
        claim: str,
        store: ExportStore,
        blobs: PartSink,
        *,
        out_of_time: Callable[[], bool] = lambda: False,
        part_bytes: int = PART_BYTES,
    ) -> None:
        self.job = job
        self.claim = claim
        self.store = store
        self.blobs = blobs
        self.out_of_time = out_of_time
        self.part_bytes = max(part_bytes, 1)

    def _held(self, job: ExportJob | None) -> ExportJob:
        if job is None:
            raise LostClaim()
        self.job = job
        return job

    def start_upload(self) -> None:
        """The job's multipart upload: the one a run before started, else a new one."""
        if self.job.upload_id is not None:
            return
        upload_id = self.blobs.start_upload(self.job.key)
        recorded = self.store.started_upload(self.job, self.claim, upload_id)
        if recorded is None:
            self.blobs.abort_upload(self.job.key, upload_id)
        self._held(recorded)

    def _upload(self, data: bytes, rows: int, last_sort_key: str | None) -> None:
        job = self.job
        assert job.upload_id is not None
        number = len(job.parts) + 1
        etag = self.blobs.upload_part(job.key, job.upload_id, number, data)
        self._held(
            self.store.add_part(job, self.claim, UploadedPart(number=number, etag=etag), rows, last_sort_key)
        )

    def write(self, leads: Iterable[Lead]) -> bool:
        """Write ``leads`` (in the job's order) after those the job's parts hold: True when all
        are written, False when the run stopped early (out of time) after a part."""
        job = self.job
        sort_key = sort_key_of(job)
        forward = job.filters.sort_dir == "ASC"
        resume_after = job.last_sort_key
        writer = CsvWriter(EXPORT_COLUMNS)
        buffer = io.BytesIO()
        if not job.parts:
            buffer.write(writer.header())
        rows, latest = job.rows_written, None
        for lead in leads:
            if resume_after is not None:
                key = sort_key(lead)
                if key <= resume_after if forward else key >= resume_after:
                    continue  # in a part a run before this one uploaded
                resume_after = None  # the leads come in order: every later one is after it too
            buffer.write(writer.row(lead.model_dump()))
            rows, latest = rows + 1, lead
            if buffer.tell() >= self.part_bytes:
                self._upload(buffer.getvalue(), rows, sort_key(latest))
                buffer = io.BytesIO()
                if self.out_of_time():
                    return False
            elif rows % PROGRESS_EVERY == 0 and not self.store.progress(self.job, self.claim, rows):
                raise LostClaim()
        if buffer.tell() or not self.job.parts:
            self._upload(buffer.getvalue(), rows, sort_key(latest) if latest else job.last_sort_key)
        return True

    def complete(self) -> ExportJob:
        job = self.job
        assert job.upload_id is not None
        self.blobs.complete_upload(job.key, job.upload_id, [(part.number, part.etag) for part in job.parts])
        return self._held(
            self.store.finish(
                job, self.claim, status="done", row_count=job.rows_written, progress=job.rows_written,
                finished_at=utc_now(),
            )
        )  # fmt: skip

    def fail(self, reason: str) -> ExportJob | None:
        """Abort the upload and mark the job failed (when this run still holds it)."""
        if self.job.upload_id is not None:
            self.blobs.abort_upload(self.job.key, self.job.upload_id)
        return self.store.finish(
            self.job, self.claim, status="failed", failure_reason=reason, finished_at=utc_now()
        )


def run_message(
    body: Any,
    store: ExportStore,
    leads: LeadStore,
    directory: DirectoryStore,
    blobs: PartSink,
    queue: JobQueue,
    remaining_ms: Callable[[], int],
    *,
    part_bytes: int = PART_BYTES,
) -> ExportJob | None:
    """Run (or resume) the job a message names; its state after this run, or None when this
    delivery had nothing to do (an unknown job, or one another run holds)."""
    request = ExportRequest.of(body)
    job = store.get(request.tenant_id, request.export_id) if request else None
    if request is None or job is None:
        logger.warning("export message names no export job", extra={"body": str(body)[:200]})
        return None
    if job.finished:
        logger.info("export already finished", extra={"export_id": job.export_id, "status": job.status})
        return job
    now = int(time.time())
    claim = uuid.uuid4().hex
    held = store.claim(job, claim, now, now + remaining_ms() // 1000 + LEASE_MARGIN_SECONDS, utc_now())
    if held is None:
        logger.info("export held by another run", extra={"export_id": job.export_id})
        return None
    run = ExportRun(
        held, claim, store, blobs, out_of_time=lambda: remaining_ms() < TIME_RESERVE_MS, part_bytes=part_bytes
    )
    try:
        run.start_upload()
        query = held.filters.query()
        if not run.write(lead_listing.all_leads(principal_of(held), query, leads, directory)):
            return _continue_later(run, request, queue)
        done = run.complete()
    except LostClaim:
        logger.warning("export claimed by another run meanwhile", extra={"export_id": job.export_id})
        return None
    except ContinueLater:
        raise
    except Exception as exc:  # any failure ends the job, with a reason the client may read
        reason = BUSY if isinstance(exc, ServiceUnavailable) else UNEXPECTED
        logger.exception("export failed", extra={"export_id": job.export_id})
        metrics.add_metric(name="ExportFailed", unit="Count", value=1)
        return run.fail(reason.format(export_id=job.export_id))
    metrics.add_metric(name="LeadsExported", unit="Count", value=done.rows_written)
    return done


def _continue_later(run: ExportRun, request: ExportRequest, queue: JobQueue) -> ExportJob:
    released = run.store.release(run.job, run.claim)
    if released is None:
        raise LostClaim()
    try:
        queue.send(request.message())
    except ServiceUnavailable as exc:
        raise ContinueLater() from exc
    logger.info(
        "export continues in a new run",
        extra={"export_id": released.export_id, "rows": released.rows_written},
    )
    return released
