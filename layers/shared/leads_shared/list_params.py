"""The query parameters that choose leads: filters, scope and sort of ``GET /leads``, which
``GET /leads/export`` takes too. Declared once, so that both routes validate and document them
alike (a blank value means the default): a route decorated with ``@takes_lead_filters`` has them
as query parameters, and receives them as one ``filters: LeadFilters``.

(Not ``Annotated[LeadFilters, Query()]`` with a pydantic model, which Powertools accepts: it
documents each field of such a model as a bare ``{"type": "string"}``, without its enum values,
limits, date format, default or blank alternative, and names its errors ``filters.sort_by``.)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator

from leads_shared.lead_listing import LeadFilters
from leads_shared.models.common import BlankMeans, SearchText, UserIdParam
from leads_shared.models.leads import (
    IsoDay,
    LeadStatus,
    Scope,
    SortBy,
    SortDir,
    sort_direction,
)

Search = Annotated[
    SearchText | None,
    BlankMeans(None),
    Query(
        description="Word prefixes, any case and accent: every term (split at spaces) must start a "
        "word of the first or last name or company, the email, its local part or its pieces, its "
        "domain, or the phone's digits (or their last 7 or 4). More than 10,000 matches: the first "
        "10,000 found, `total_capped` true."
    ),
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


# Each filter's parameter type (validation and documentation): the fields of LeadFilters.
PARAMETERS: dict[str, Any] = {
    "search": Search,
    "status": Status,
    "source": Source,
    "assigned_to": AssignedTo,
    "date_from": DateFrom,
    "date_to": DateTo,
    "scope": ScopeParam,
    "sort_by": SortByParam,
    "sort_dir": SortDirParam,
}


def takes_lead_filters[R](route: Callable[..., R]) -> Callable[..., R]:
    """A route with the lead filters as query parameters (its signature, as Powertools reads it,
    gets them in place of its ``filters`` parameter); it is called with ``filters=LeadFilters``."""
    signature = inspect.signature(route)
    defaults = LeadFilters()
    own = [p for name, p in signature.parameters.items() if name != "filters"]
    added = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=getattr(defaults, name)
        )
        for name, kind in PARAMETERS.items()
    ]

    @functools.wraps(route)
    def with_filters(*args: Any, **kwargs: Any) -> R:
        filters = LeadFilters(**{name: kwargs.pop(name) for name in PARAMETERS if name in kwargs})
        return route(*args, filters=filters, **kwargs)

    with_filters.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    return with_filters
