"""``GET /leads``: filters, scopes, sorts and pages.

Two ways to answer, chosen per request (the README's access-pattern table):

* **index pages**: sorted by name with no filter, or with only one status or one assignee
  (``assigned_to`` / ``scope=me``), or sorted by creation time with no filter. One Query on the
  index that already holds that order reads just the leads up to the page's end, and ``total``
  comes from the tenant's counters item: the cost does not grow with the number of leads.
* **narrow list**: anything else (search, source, dates, team scope, other sorts, combined
  filters) reads the tenant's narrow list index (only the attributes filters and sorts need),
  filters and sorts in memory with the same sort keys as the indexes, and fetches the page's
  full leads with one BatchGetItem.

Every page but the last carries a cursor (``list_cursors``): the position of its last lead. A
page asked by cursor starts right after that position, so no lead is listed twice or skipped
while others are created or deleted between pages; on an index, the Query starts there
(``ExclusiveStartKey``) and reads the page and one item more, at any depth.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from leads_shared import list_cursors
from leads_shared.config import get_settings
from leads_shared.data.lead_store import IndexPosition, LeadOrder, LeadStore
from leads_shared.errors import ValidationFailed
from leads_shared.keys import name_sort_key, text_sort_key
from leads_shared.list_cursors import ListPosition
from leads_shared.models.leads import MAX_PER_PAGE, Lead, LeadStatus, Scope, SortBy

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.directory_store import DirectoryStore


@dataclass(frozen=True)
class LeadFilters:
    """Which leads, in which order (the query parameters ``GET /leads`` and its export share:
    ``leads_shared.list_params``)."""

    search: str | None = None
    status: LeadStatus | None = None
    source: str | None = None
    assigned_to: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    scope: Scope = "company"
    sort_by: SortBy = "name"
    sort_dir: Literal["ASC", "DESC"] = "ASC"

    def query(self, page: int = 1, per_page: int = 25, cursor: str | None = None) -> LeadQuery:
        """The listing's query: these filters, and a page of them (``cursor``: the one after the
        page that cursor came with; ``page`` is then ignored)."""
        return LeadQuery(page=page, per_page=per_page, cursor=cursor, **asdict(self))


@dataclass(frozen=True)
class LeadQuery(LeadFilters):
    page: int = 1
    per_page: int = 25
    cursor: str | None = None

    @property
    def filters(self) -> dict[str, Any]:
        """What a cursor is bound to: the filters, scope and sort (not the page or its size)."""
        values = asdict(self)
        for name in ("page", "per_page", "cursor"):
            values.pop(name)
        return values

    def __post_init__(self) -> None:
        if not 1 <= self.per_page <= MAX_PER_PAGE:  # the route refuses these first (422)
            raise ValidationFailed({"per_page": [f"The per page field must be 1 … {MAX_PER_PAGE}."]})
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValidationFailed(
                {"date_to": ["The date to field must be a date after or equal to date from."]}
            )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass
class LeadPageResult:
    leads: list[Lead]
    total: int
    query: LeadQuery
    plan: str = field(default="")
    # The leads listed before this page (its offset; with a cursor, as counted when it was made).
    listed_before: int = 0
    next_cursor: str | None = None

    @property
    def current_page(self) -> int:
        return self.listed_before // self.query.per_page + 1

    @property
    def last_page(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))


# Sort keys of the narrow path; ``name`` is the very key GSI1-3 are sorted by.
SORT_KEYS: dict[str, Callable[[dict[str, Any]], str]] = {
    "name": lambda r: name_sort_key(r["first_name"], r["last_name"], r["id"]),
    "email": lambda r: text_sort_key(r.get("email"), r["id"]),
    "company_name": lambda r: text_sort_key(r.get("company"), r["id"]),
    "status": lambda r: text_sort_key(r.get("status"), r["id"]),
    "source": lambda r: text_sort_key(r.get("source"), r["id"]),
    "assigned_to_name": lambda r: text_sort_key(r.get("assigned_to_name"), r["id"]),
    "created_at": lambda r: text_sort_key(r.get("created_at"), r["id"]),
}
SEARCHED_FIELDS = ("first_name", "last_name", "email", "company", "phone")


def _assignees(principal: Principal, query: LeadQuery, directory: DirectoryStore) -> frozenset[int] | None:
    """The assignees a lead must have to be listed, or None for "any"."""
    wanted: frozenset[int] | None = None
    if query.scope == "me":
        wanted = frozenset({principal.user_id})
    elif query.scope == "team":
        team_id = principal.team_id
        users = directory.users(principal.tenant_id)
        if team_id is None:
            team_id = next((u.team_id for u in users if u.id == principal.user_id), None)
        wanted = frozenset(u.id for u in users if team_id is not None and u.team_id == team_id)
    if query.assigned_to is not None:
        only = frozenset({query.assigned_to})
        wanted = only if wanted is None else wanted & only
    return wanted


def _matches(row: dict[str, Any], query: LeadQuery, assignees: frozenset[int] | None) -> bool:
    if query.status and row.get("status") != query.status:
        return False
    if query.source and (row.get("source") or "").casefold() != query.source.casefold():
        return False
    if assignees is not None and row.get("assigned_to") not in assignees:
        return False
    day = (row.get("created_at") or "")[:10]
    if query.date_from and day < query.date_from.isoformat():
        return False
    if query.date_to and day > query.date_to.isoformat():
        return False
    if query.search:
        term = query.search.casefold()
        texts = [row.get(name) or "" for name in SEARCHED_FIELDS]
        texts.append(f"{row.get('first_name', '')} {row.get('last_name', '')}")
        if not any(term in text.casefold() for text in texts):
            return False
    return True


def _index_plan(query: LeadQuery, assignees: frozenset[int] | None) -> LeadOrder | None:
    """The leads of one index, in order, when they are exactly the answer."""
    if query.search or query.source or query.date_from or query.date_to:
        return None
    if query.sort_by == "name":
        if assignees is None:
            return LeadOrder("name", status=query.status)
        if len(assignees) == 1 and query.status is None:
            (user_id,) = assignees
            return LeadOrder("name", assignee=user_id)
    if query.sort_by == "created_at" and assignees is None and query.status is None:
        return LeadOrder("created_at")
    return None


def _described(order: LeadOrder) -> str:
    """The plan's name in the logs."""
    within = "status" if order.status else "assignee" if order.assignee is not None else "all"
    return f"{within} by {order.by}"


def list_leads(
    principal: Principal, query: LeadQuery, store: LeadStore, directory: DirectoryStore
) -> LeadPageResult:
    """A page of leads: the ``page``-th, or the one after the page ``cursor`` came with."""
    tenant_id = principal.tenant_id
    settings = get_settings()
    bound_to = list_cursors.binding(tenant_id, principal.user_id, query.filters)
    after = list_cursors.read(query.cursor, bound_to, settings) if query.cursor else None
    listed_before = after.listed if after else query.offset
    assignees = _assignees(principal, query, directory)
    if assignees is not None and not assignees:
        return LeadPageResult([], 0, query, plan="empty", listed_before=listed_before)
    forward = query.sort_dir == "ASC"
    order = _index_plan(query, assignees)
    if order is not None:
        kind: Literal["sort", "creation"] = "creation" if order.by == "created_at" else "sort"
        if after is not None and after.kind != kind:
            raise ValidationFailed({"cursor": [list_cursors.ANOTHER_QUERY]})
        total = store.count(tenant_id, order)
        result = LeadPageResult([], total, query, plan=_described(order), listed_before=listed_before)
        if after is None and query.offset >= total:
            return result
        page = store.page_in_order(
            tenant_id,
            order,
            forward=forward,
            count=query.per_page,
            skip=0 if after else query.offset,
            after=IndexPosition(after.sort_key, after.lead_id) if after else None,
            read_ahead=after is not None,
        )
        result.leads = page.leads
        # By page, whether another follows is what total says (as last_page); by cursor, what
        # the index holds past this page (one item read ahead): leads come and go meanwhile.
        more = page.more if after else listed_before + len(page.leads) < total
        if more and page.last is not None:
            last, listed = page.last, listed_before + len(page.leads)
            position = ListPosition(kind, last.sort_key, last.lead_id, listed)
            result.next_cursor = list_cursors.issue(position, bound_to, settings)
        return result

    if after is not None and after.kind != "sort":
        raise ValidationFailed({"cursor": [list_cursors.ANOTHER_QUERY]})
    sort_key = SORT_KEYS[query.sort_by]
    rows = [row for row in store.narrow_rows(tenant_id) if _matches(row, query, assignees)]
    rows.sort(key=sort_key, reverse=not forward)
    if after is None:
        start = query.offset
    else:  # right after the cursor's lead (keys are unique), wherever those before it went since
        key = after.sort_key
        start = sum(1 for row in rows if (sort_key(row) <= key if forward else sort_key(row) >= key))
    page_rows = rows[start : start + query.per_page]
    result = LeadPageResult(
        store.full_leads(tenant_id, page_rows), len(rows), query, plan="narrow", listed_before=listed_before
    )
    if page_rows and start + len(page_rows) < len(rows):
        final = page_rows[-1]
        position = ListPosition("sort", sort_key(final), final["id"], listed_before + len(page_rows))
        result.next_cursor = list_cursors.issue(position, bound_to, settings)
    return result


def all_leads(
    principal: Principal, query: LeadQuery, store: LeadStore, directory: DirectoryStore
) -> Iterator[Lead]:
    """Every lead ``GET /leads`` would list with these filters, scope and sort (``page`` and
    ``per_page`` ignored), streamed: an index that holds the order is read a page at a time
    (memory stays flat); otherwise the narrow list's matching rows are sorted in memory (about
    200 bytes a lead) and the full leads fetched 100 at a time."""
    tenant_id = principal.tenant_id
    assignees = _assignees(principal, query, directory)
    if assignees is not None and not assignees:
        return
    forward = query.sort_dir == "ASC"
    order = _index_plan(query, assignees)
    if order is not None:
        yield from store.iter_leads_in_order(tenant_id, order, forward=forward)
        return
    matching = [row for row in store.iter_narrow_rows(tenant_id) if _matches(row, query, assignees)]
    matching.sort(key=SORT_KEYS[query.sort_by], reverse=not forward)
    yield from store.iter_full_leads(tenant_id, matching)
