"""CSV out: the import template, and exports of the leads a list would show, written to S3 as
they are read (a multipart upload: memory does not grow with the number of leads)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from leads_shared import lead_listing
from leads_shared.clock import format_timestamp
from leads_shared.config import get_settings
from leads_shared.csv_format import EXPORT_COLUMNS, chunks, export_filename, template_csv
from leads_shared.errors import Conflict
from leads_shared.models.imports import ExportOut

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.blob_store import BlobStore
    from leads_shared.data.directory_store import DirectoryStore
    from leads_shared.data.lead_store import LeadStore

TEMPLATE_FILENAME = "leads_template.csv"
TOO_MANY = (
    "This export would hold {count} leads, more than the {limit} an export answered at once can "
    "(GET /leads/export). Start an export job instead: POST /leads/exports with the same query "
    "parameters, then follow GET /leads/exports/{{export_id}}."
)


def template() -> str:
    """The header row of the importable columns (UTF-8 with BOM, as text for the response)."""
    return template_csv().decode("utf-8")


def export_leads(
    principal: Principal,
    query: lead_listing.LeadQuery,
    leads: LeadStore,
    directory: DirectoryStore,
    blobs: BlobStore,
) -> ExportOut:
    """Write every lead matching ``query`` to ``tmp/exports/`` (deleted by the bucket's
    lifecycle after 7 days) and answer a presigned download. More leads than the settings'
    ``sync_export_max_leads`` is a ``Conflict`` that names the export job (``fits_at_once``)."""
    fits_at_once(principal, query, leads, directory)
    now = datetime.now(UTC)
    filename = export_filename(now)
    key = f"tmp/exports/{principal.tenant_id}/{uuid.uuid4().hex}.csv"
    count = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal count
        for lead in lead_listing.all_leads(principal, query, leads, directory):
            count += 1
            yield lead.model_dump()

    blobs.write_parts(key, chunks(rows(), EXPORT_COLUMNS))
    expiry = get_settings().url_expiry_seconds
    return ExportOut(
        download_url=blobs.download_url(key, filename, expiry),
        expires_at=format_timestamp(now + timedelta(seconds=expiry)),
        row_count=count,
        filename=filename,
    )


def fits_at_once(
    principal: Principal, query: lead_listing.LeadQuery, leads: LeadStore, directory: DirectoryStore
) -> None:
    """Refuse (409) an export of more leads than ``sync_export_max_leads``: one GetItem of the
    tenant's counters when the tenant has no more leads than that; else the listing's total (the
    counters when an index serves the query; the narrow list otherwise, which the export reads
    anyway)."""
    limit = get_settings().sync_export_max_leads
    if leads.stats(principal.tenant_id).total <= limit:
        return
    count = lead_listing.list_leads(
        principal, replace(query, page=1, per_page=1, cursor=None), leads, directory
    ).total
    if count > limit:
        raise Conflict(TOO_MANY.format(count=f"{count:,}", limit=f"{limit:,}"))
