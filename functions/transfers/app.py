"""CSV in and out: the import template, exports, and import jobs. Files go through S3 with
presigned URLs, never through this function's payload (except small files posted as a form).
Routes only; the rules live in the layer."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from leads_shared import csv_export, csv_import, export_jobs
from leads_shared.api import (
    BODY_ERRORS,
    admin_only,
    api_root,
    caller,
    cors,
    entry_point,
    is_form,
    responses,
    use_api_conventions,
)
from leads_shared.data import (
    get_blob_store,
    get_directory_store,
    get_export_queue,
    get_export_store,
    get_import_store,
    get_lead_store,
)
from leads_shared.lead_listing import LeadFilters
from leads_shared.list_params import takes_lead_filters
from leads_shared.models.common import BlankMeans
from leads_shared.models.exports import ExportJobOut
from leads_shared.models.imports import ExportOut, ImportOut, ImportStarted
from leads_shared.observability import logger, metrics, tracer

app = APIGatewayRestResolver(enable_validation=True, cors=cors())
use_api_conventions(app)
TAGS = ["CSV import and export"]


@app.get(
    "/leads/template",
    summary="Download leads CSV template",
    tags=TAGS,
    description="Admin only. The header row of the importable columns (UTF-8 with BOM).",
    responses={
        **responses((200, ExportOut, "unused"), 403),
        200: {
            "description": "The template, as a `text/csv` attachment `leads_template.csv`.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
    },
    middlewares=[admin_only],
)
@tracer.capture_method
def download_template() -> Response[str]:
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=csv_export.template(),
        headers={"Content-Disposition": f'attachment; filename="{csv_export.TEMPLATE_FILENAME}"'},
    )


@app.get(
    "/leads/export",
    summary="Export leads CSV",
    tags=TAGS,
    description="Admin only. Every lead matching the same filters, scope and sort as `GET /leads` "
    "(`page`/`per_page` ignored), written to S3 and answered as a presigned download valid 15 "
    "minutes; `redirect=true` answers 303 to it. UTF-8 with BOM, RFC 4180, cells that a spreadsheet "
    "would run as a formula start with `'`. More leads than fit in one answer (100,000 by "
    "default): 409, naming `POST /leads/exports`, the export job.",
    responses=responses(
        (200, ExportOut, "Where to download the CSV."),
        403,
        409,
        also=[(303, ExportOut, "`redirect=true`: the same, with `Location` the download URL.")],
    ),
    middlewares=[admin_only],
)
@tracer.capture_method
@takes_lead_filters
def export_leads(
    filters: LeadFilters,
    redirect: Annotated[bool, BlankMeans(False), Query(description="303 to the file.")] = False,
) -> Response[ExportOut]:
    query = filters.query()
    export = csv_export.export_leads(
        caller(app), query, get_lead_store(), get_directory_store(), get_blob_store()
    )
    logger.info("exported leads", extra={"rows": export.row_count})
    metrics.add_metric(name="LeadsExported", unit="Count", value=export.row_count)
    if redirect:
        return Response(status_code=303, content_type=content_types.APPLICATION_JSON, body=export,
                        headers={"Location": export.download_url})  # fmt: skip
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=export)


@app.post(
    "/leads/exports",
    summary="Start an export job",
    tags=TAGS,
    description="Admin only. The export of `GET /leads/export` (the same filters, scope and sort, "
    "the same file) for any number of leads: 202 with the job, queued, and `Location` its "
    "`GET /leads/exports/{export_id}`; a worker writes the file in the background.",
    responses=responses((202, ExportJobOut, "The job, queued; `Location`: where to follow it."), 403),
    middlewares=[admin_only],
)
@tracer.capture_method
@takes_lead_filters
def start_export(filters: LeadFilters) -> Response[ExportJobOut]:
    job = export_jobs.start_export(caller(app), filters, get_export_store(), get_export_queue())
    logger.info("export queued", extra={"export_id": job.export_id})
    location = f"{api_root(app)}/leads/exports/{job.export_id}"
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=job,
                    headers={"Location": location})  # fmt: skip


@app.get(
    "/leads/exports/<export_id>",
    summary="Export job status",
    tags=TAGS,
    description="Admin only. Status (`queued`, `running`, `done`, `failed`), progress (leads "
    "written) and, once done, a presigned download of the CSV made by this request (valid 15 "
    "minutes) and its row count. A job of another tenant is not found.",
    responses=responses((200, ExportJobOut, "The job."), 403, 404),
    middlewares=[admin_only],
)
@tracer.capture_method
def export_status(
    export_id: Annotated[str, Path(max_length=64, description="From `POST /leads/exports`.")],
) -> ExportJobOut:
    return export_jobs.get_export(caller(app), export_id, get_export_store(), get_blob_store())


@app.post(
    "/leads/import",
    summary="Import leads",
    tags=TAGS,
    description='JSON body `{"filename"?, "mode"?: "skip"|"update", "dry_run"?}` (or none): '
    "201 with a presigned POST (`upload.url`, `upload.fields`: post them, then the file as `file`, "
    "straight to S3, at most `upload.max_bytes`). Or `multipart/form-data` with `file` (at most "
    "4 MB; the same `mode`, `dry_run` fields): 202, the file is queued. Either way the upload "
    "starts the import; follow it with `GET /leads/imports/{import_id}`.",
    responses=responses(
        (201, ImportStarted, "The job, waiting for its upload."),
        *BODY_ERRORS,
        also=[(202, ImportStarted, "A file posted as multipart/form-data: the job, queued.")],
    ),
)
@tracer.capture_method
def start_import() -> Response[ImportStarted]:
    principal = caller(app)
    event = app.current_event
    if is_form(app):
        content_type = event.headers.get("Content-Type") or ""
        posted = csv_import.parse_form(content_type, event.body, base64_encoded=bool(event.is_base64_encoded))
        job = csv_import.upload_import(principal, posted, get_import_store(), get_blob_store())
        return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=job)
    request = csv_import.parse_request(event.body, event.headers.get("Content-Type"))
    job = csv_import.start_import(principal, request, get_import_store(), get_blob_store())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=job)


@app.get(
    "/leads/imports/<import_id>",
    summary="Import status",
    tags=TAGS,
    description="Progress and outcome of an import job of the caller's tenant.",
    responses=responses((200, ImportOut, "The job."), 404),
)
@tracer.capture_method
def import_status(
    import_id: Annotated[str, Path(max_length=64, description="From `POST /leads/import`.")],
) -> ImportOut:
    return csv_import.get_import(caller(app), import_id, get_import_store(), get_blob_store())


lambda_handler = entry_point(app)
