"""Export jobs: the stored job (with the worker's resume state) and what the API answers."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from leads_shared.lead_listing import LeadFilters
from leads_shared.models.common import Model

ExportStatus = Literal["queued", "running", "done", "failed"]


class UploadedPart(Model):
    """A part of the job's multipart upload that S3 holds (what completing the upload names)."""

    number: int
    etag: str


class ExportJob(Model):
    """The stored job: what was asked, by whom, and the worker's progress.

    Resume state (``export_worker``): the multipart upload, the parts already in it, the leads
    they hold and the sort key of the last of them. A run holds the job while its ``claim`` is
    set and its ``lease_until`` (epoch seconds) is ahead; every write of a run is conditioned
    on its claim."""

    tenant_id: str
    export_id: str
    status: ExportStatus
    filters: LeadFilters  # the query parameters of GET /leads/export the job was started with
    key: str
    created_by: int
    role: str = "admin"
    team_id: int | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    progress: int = 0  # leads written so far, shown by GET (updated within a part too)
    rows_written: int = 0  # leads in the uploaded parts: where a resumed run starts
    row_count: int | None = None
    failure_reason: str | None = None
    attempts: int = 0
    runs: int = 0  # runs that continued the job after the one before ran out of time
    claim: str | None = None
    lease_until: int | None = None
    upload_id: str | None = None
    parts: list[UploadedPart] = Field(default_factory=list)
    last_sort_key: str | None = None
    expires_at: int  # TTL: the item goes with its file (the bucket's tmp/ lifecycle)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


class ExportJobOut(Model):
    model_config = ConfigDict(
        json_schema_mode_override="serialization", json_schema_serialization_defaults_required=True
    )

    export_id: str
    status: ExportStatus = Field(description="queued, running, done or failed.")
    filters: LeadFilters = Field(description="The leads it exports, in this order: its query parameters.")
    progress: int = Field(description="Leads written to the file so far.")
    row_count: int | None = Field(default=None, description="Leads in the file (status done).")
    download_url: str | None = Field(
        default=None,
        description="Status done: a presigned GET of the CSV, made by this request, valid 15 minutes.",
    )
    expires_at: str | None = Field(default=None, description="When `download_url` stops working.")
    filename: str | None = Field(default=None, description="The name the download is saved as.")
    failure_reason: str | None = Field(default=None, description="Status failed: why.")
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
