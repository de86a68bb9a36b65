"""The query parameters that choose leads: filters, scope and sort of ``GET /leads``, which
``GET /leads/export`` takes too. Declared once, so that both routes validate and document them
alike (a blank value means the default)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator

from leads_shared.models.common import BlankMeans, UserIdParam
from leads_shared.models.leads import (
    IsoDay,
    LeadStatus,
    Scope,
    SearchText,
    SortBy,
    SortDir,
    sort_direction,
)

Search = Annotated[
    SearchText | None,
    BlankMeans(None),
    Query(description="Case-insensitive substring of first, last or full name, email, company or phone."),
]
Status = Annotated[LeadStatus | None, BlankMeans(None), Query()]
Source = Annotated[SearchText | None, BlankMeans(None), Query(description="Exact source, any case.")]
AssignedTo = Annotated[UserIdParam | None, BlankMeans(None), Query()]
DateFrom = Annotated[
    IsoDay | None, BlankMeans(None), Query(description="created_at on or after this UTC day.")
]
DateTo = Annotated[
    IsoDay | None, BlankMeans(None), Query(description="created_at on or before this UTC day.")
]
ScopeParam = Annotated[
    Scope,
    BlankMeans("company"),
    Query(description="me: assigned to the caller; team: to the caller's team; company: all."),
]
SortByParam = Annotated[SortBy, BlankMeans("name"), Query()]
SortDirParam = Annotated[
    SortDir,
    BlankMeans("ASC"),
    BeforeValidator(sort_direction),
    Query(description="ASC or DESC, in any case."),
]
