"""Export jobs, the API's side: start one (``POST /leads/exports``: the job item, then its message
on the export queue) and read it (``GET /leads/exports/{id}``: a presigned download made at
read time once it is done). The worker's side is ``export_worker``."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from leads_shared.clock import format_timestamp, utc_now
from leads_shared.config import get_settings
from leads_shared.csv_format import export_filename
from leads_shared.errors import NotFound, ServiceUnavailable
from leads_shared.export_worker import ExportRequest
from leads_shared.keys import ExportKeys
from leads_shared.models.exports import ExportJob, ExportJobOut

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.blob_store import BlobStore
    from leads_shared.data.export_store import ExportStore
    from leads_shared.data.job_queue import JobQueue
    from leads_shared.lead_listing import LeadFilters

# The job's item lives as long as its file (the bucket empties tmp/ after 7 days).
KEPT_SECONDS = 7 * 24 * 3600
NOT_QUEUED = "The export could not be queued. Please start it again."


def new_job(principal: Principal, filters: LeadFilters, export_id: str | None = None) -> ExportJob:
    """A queued job of the caller's tenant: these filters' leads, as the caller's list shows them."""
    export_id = export_id or uuid.uuid4().hex
    return ExportJob(
        tenant_id=principal.tenant_id,
        export_id=export_id,
        status="queued",
        filters=filters,
        key=ExportKeys.file(principal.tenant_id, export_id),
        created_by=principal.user_id,
        role=principal.role,
        team_id=principal.team_id,
        created_at=utc_now(),
        expires_at=int(time.time()) + KEPT_SECONDS,
    )


def start_export(
    principal: Principal, filters: LeadFilters, store: ExportStore, queue: JobQueue
) -> ExportJobOut:
    """Store the job, then queue its message (a job whose message could not be sent is failed).
    Filters the export refuses (``date_to`` before ``date_from``) are refused here too (422)."""
    filters.query()
    job = new_job(principal, filters)
    store.create(job)
    try:
        queue.send(ExportRequest(job.tenant_id, job.export_id).message())
    except ServiceUnavailable:
        store.fail_unqueued(job, NOT_QUEUED, utc_now())
        raise
    return answer(job, None)


def get_export(principal: Principal, export_id: str, store: ExportStore, blobs: BlobStore) -> ExportJobOut:
    """The caller's tenant's job (another tenant's id is not found: the key holds the tenant)."""
    job = store.get(principal.tenant_id, export_id)
    if job is None:
        raise NotFound("Export")
    return answer(job, blobs)


def filename(job: ExportJob) -> str:
    return export_filename(datetime.strptime(job.created_at[:19], "%Y-%m-%dT%H:%M:%S"))


def answer(job: ExportJob, blobs: BlobStore | None) -> ExportJobOut:
    out = ExportJobOut(
        export_id=job.export_id,
        status=job.status,
        filters=job.filters,
        progress=job.progress,
        row_count=job.row_count,
        failure_reason=job.failure_reason,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )
    if job.status == "done" and blobs is not None:
        expiry = get_settings().url_expiry_seconds
        out.filename = filename(job)
        out.download_url = blobs.download_url(job.key, out.filename, expiry)
        out.expires_at = format_timestamp(datetime.now(UTC) + timedelta(seconds=expiry))
    return out
