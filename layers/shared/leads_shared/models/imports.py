"""CSV import jobs and export answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from leads_shared.models.common import Model, OptionalText255

ImportStatus = Literal["pending_upload", "queued", "processing", "completed", "failed"]
ImportMode = Literal["skip", "update"]


class ImportRequest(Model):
    model_config = ConfigDict(extra="ignore")

    filename: OptionalText255 = Field(default=None, description="The client's name for the file.")
    mode: ImportMode = Field(
        default="skip", description="A row whose email a lead has already: skip it, or update that lead."
    )
    dry_run: bool = Field(default=False, description="Validate and report without writing any lead.")


RowOutcome = Literal["created", "updated", "skipped", "failed"]


class ImportCounts(Model):
    """What became of an import's rows so far: the job's counts, and a chunk's before they are
    added to the job's (in the transaction that writes the chunk)."""

    total_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0

    def count(self, outcome: RowOutcome) -> None:
        """One more row, and what became of it."""
        self.total_rows += 1
        setattr(self, outcome, getattr(self, outcome) + 1)

    def add(self, other: ImportCounts) -> None:
        for name in ImportCounts.model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class RowError(Model):
    row: int = Field(
        description="The row as a spreadsheet numbers it: the header is row 1 and each record one "
        "row, even when a quoted cell holds line breaks."
    )
    line: int = Field(description="The physical line of the file the row starts on (the header is line 1).")
    field: str
    message: str

    @model_validator(mode="before")
    @classmethod
    def _stored_before_lines(cls, data: Any) -> Any:
        """Jobs stored before ``line`` existed kept the physical line in ``row``."""
        if isinstance(data, dict) and "line" not in data and "row" in data:
            return {**data, "line": data["row"]}
        return data


class ImportJob(ImportCounts):
    """The stored job: what the client asked, where the file is, and the worker's progress."""

    tenant_id: str
    import_id: str
    status: ImportStatus
    mode: ImportMode = "skip"
    dry_run: bool = False
    filename: str | None = None
    key: str
    created_by: int
    created_at: str
    errors: list[RowError] = Field(default_factory=list)
    unknown_columns: list[str] = Field(default_factory=list)
    report_key: str | None = None
    failure_reason: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    # Exactly once: lead ids reserved for the job (row n of the file gets id_base + n), and the
    # next chunk of rows whose counts are not yet applied.
    id_base: int | None = None
    id_count: int | None = None
    source_version: str | None = None  # the upload imported (a later one to the same key is not)
    next_chunk: int = 0
    attempts: int = 0

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed")


class UploadForm(Model):
    url: str = Field(description="POST the file here as multipart/form-data: these fields, then `file`.")
    fields: dict[str, str]
    expires_at: str
    max_bytes: int


class ImportOut(ImportCounts):
    # Every answer has the counts: the document says so, though the model gives them defaults.
    model_config = ConfigDict(
        json_schema_mode_override="serialization", json_schema_serialization_defaults_required=True
    )

    import_id: str
    status: ImportStatus
    dry_run: bool
    mode: ImportMode
    filename: str | None
    errors: list[RowError] = Field(description="The first 100 rejected or skipped rows.")
    unknown_columns: list[str] = Field(description="Header names that are not lead fields (ignored).")
    error_report_url: str | None = Field(description="Presigned CSV of every rejected row and its reason.")
    failure_reason: str | None = Field(description="Why the whole file was refused (status failed).")
    created_at: str
    started_at: str | None
    finished_at: str | None


class ImportStarted(ImportOut):
    upload: UploadForm | None = Field(description="Where to upload the file (JSON requests only).")


class ExportOut(Model):
    download_url: str = Field(description="Presigned GET of the CSV, valid 15 minutes.")
    expires_at: str
    row_count: int
    filename: str
