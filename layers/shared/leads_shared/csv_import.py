"""CSV import jobs, the API side: start a job (a presigned upload, or a small file posted to the
API as a form), and read its status. The upload's S3 event starts the worker
(``import_worker``), which imports the file exactly once."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING

from pydantic import ValidationError

from leads_shared.clock import format_timestamp, utc_now
from leads_shared.config import get_settings
from leads_shared.errors import NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from leads_shared.keys import ImportKeys
from leads_shared.models.imports import ImportJob, ImportOut, ImportRequest, ImportStarted, UploadForm
from leads_shared.validation_messages import field_errors, invalid_input

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.blob_store import BlobStore
    from leads_shared.data.import_store import ImportStore

_IMPORT_ID = re.compile(r"[0-9a-f]{32}")


def _expires_at(seconds: int) -> str:
    return format_timestamp(datetime.now(UTC) + timedelta(seconds=seconds))


def _new_job(principal: Principal, request: ImportRequest, status: str) -> ImportJob:
    import_id = uuid.uuid4().hex
    return ImportJob(
        tenant_id=principal.tenant_id,
        import_id=import_id,
        status=status,  # type: ignore[arg-type]
        mode=request.mode,
        dry_run=request.dry_run,
        filename=request.filename,
        key=ImportKeys.upload(principal.tenant_id, import_id),
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


def parse_form(content_type: str, body: str | None, *, base64_encoded: bool) -> PostedFile:
    """A ``multipart/form-data`` body as API Gateway passes it (a binary media type arrives
    base64-encoded; otherwise each byte is one character): the ``file`` part and the optional
    ``filename``, ``mode`` and ``dry_run`` fields (standard library parser)."""
    raw = body or ""
    data = base64.b64decode(raw) if base64_encoded else raw.encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + data
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
    job = imports.get(principal.tenant_id, import_id) if _IMPORT_ID.fullmatch(import_id) else None
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
