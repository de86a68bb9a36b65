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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from leads_shared import list_cursors, search_tokens
from leads_shared.config import get_settings
from leads_shared.data.entry_reads import EntryFilter, KeyRange
from leads_shared.data.lead_store import FULL_LEADS_BATCH, IndexPosition, LeadOrder, LeadStore
from leads_shared.errors import ValidationFailed
from leads_shared.keys import BY_ALL, BY_SOURCE, BY_STATUS, BY_USER, LeadStatsKeys, order_key, source_key
from leads_shared.list_cursors import ListPosition
from leads_shared.models.leads import MAX_PER_PAGE, Lead, LeadStatus, Scope, SortBy
from leads_shared.search_tokens import search_terms

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.directory_store import DirectoryStore
    from leads_shared.data.lead_counters import LeadStats
    from leads_shared.keys import IndexPartition


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
    # ``total`` is a lower bound: the matches (or the entries counted) stopped at a cap.
    total_capped: bool = False

    @property
    def current_page(self) -> int:
        return self.listed_before // self.query.per_page + 1

    @property
    def last_page(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))


# Most matches a search (or a date range sorted otherwise) reads and sorts in memory; past it, the
# answer is the matches found first, sorted, with ``total`` capped and said so (as HubSpot does).
MAX_MATCHES = 10_000
# Most values of one IN of a FilterExpression (DynamoDB's limit).
MAX_FILTER_VALUES = 100
# Most entries a count reads (``total`` when no counter holds it): past it, ``total`` is a lower
# bound and ``total_capped`` says so.
COUNT_CAP = 10_000


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


def _lead_matches(lead: Lead, query: LeadQuery, assignees: frozenset[int] | None) -> bool:
    """The filters of ``query`` but ``search``, on a lead read."""
    if query.status and lead.status != query.status:
        return False
    if query.source and source_key(lead.source) != source_key(query.source):
        return False
    if assignees is not None and lead.assigned_to not in assignees:
        return False
    day = lead.created_at[:10]
    if query.date_from and day < query.date_from.isoformat():
        return False
    return not (query.date_to and day > query.date_to.isoformat())


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


@dataclass(frozen=True)
class EntryPlan:
    """The order entries that answer a query: the partitions read (several: a team's
    assignees, merged), the key range (dates, when sorted by creation) and the filters the
    partitions do not answer (read as a FilterExpression: a page costs the page divided by the
    share of entries they keep)."""

    partitions: list[IndexPartition]
    bounds: KeyRange
    filters: EntryFilter
    # The counters whose sum is the total, when they hold it exactly (else it is counted).
    counters: list[str] | None
    described: str


def _entry_plan(
    tenant_id: str, query: LeadQuery, assignees: frozenset[int] | None, field: str, stats: LeadStats
) -> EntryPlan:
    """The partitions to read for ``query`` in ``field``'s order: the most selective of its
    status, assignees and source filters (by the tenant's counters; a source has none and is
    chosen when it is the only one), the others as filters."""
    source = source_key(query.source)
    choices: list[tuple[int, str]] = []
    if query.status:
        choices.append((stats.count(LeadStatsKeys.status_counter(query.status)), "status"))
    if assignees is not None:
        choices.append((sum(stats.count(LeadStatsKeys.assignee_counter(u)) for u in assignees), "assignee"))
    if source and not choices:
        choices.append((0, "source"))
    driver = min(choices)[1] if choices else "all"
    if assignees is not None and len(assignees) > MAX_FILTER_VALUES:
        driver = "assignee"  # a FilterExpression's IN takes at most 100 values: merge them instead
    counters: list[str] | None = None
    if driver == "status" and query.status:
        partitions = [BY_STATUS.partition(tenant_id, field, query.status)]
        counters = [LeadStatsKeys.status_counter(query.status)]
    elif driver == "assignee" and assignees is not None:
        partitions = [BY_USER.partition(tenant_id, field, str(user)) for user in sorted(assignees)]
        counters = [LeadStatsKeys.assignee_counter(user) for user in sorted(assignees)]
    elif driver == "source" and source:
        partitions = [BY_SOURCE.partition(tenant_id, field, source)]
    else:
        partitions = [BY_ALL.partition(tenant_id, field)]
        counters = [LeadStatsKeys.TOTAL]
    day_from = query.date_from.isoformat() if query.date_from else None
    day_to = query.date_to.isoformat() if query.date_to else None
    dated = field == "created_at" and (day_from or day_to)
    bounds = KeyRange(day_from, f"{day_to}~" if day_to else None) if dated else KeyRange()
    filters = EntryFilter(
        status=query.status if driver != "status" else None,
        assignees=assignees if driver != "assignee" else None,
        source=source if driver != "source" else None,
        created_from=None if dated else day_from,
        created_to=None if dated else day_to,
    )
    if dated or filters.expression() is not None:
        counters = None
    return EntryPlan(partitions, bounds, filters, counters, f"entries: {driver} by {field}")


def _total(store: LeadStore, plan: EntryPlan, stats: LeadStats) -> tuple[int, bool]:
    """The plan's total: from the counters (no read), or counted (at most ``COUNT_CAP`` read)."""
    if plan.counters is not None:
        return sum(stats.count(name) for name in plan.counters), False
    return store.count_entries(plan.partitions, cap=COUNT_CAP, bounds=plan.bounds, filters=plan.filters)


def _page_of(
    leads: list[Lead], query: LeadQuery, after: ListPosition | None, listed_before: int, bound_to: str
) -> tuple[list[Lead], str | None]:
    """A page of leads sorted in memory (a search's matches, a date range's leads), and the
    cursor of the next one."""
    field = query.sort_by
    forward = query.sort_dir == "ASC"
    leads.sort(key=lambda lead: order_key(field, lead), reverse=not forward)
    if after is None:
        start = query.offset
    else:  # right after the cursor's lead (keys are unique), wherever those before it went since
        key = after.sort_key
        start = sum(
            1
            for lead in leads
            if (order_key(field, lead) <= key if forward else order_key(field, lead) >= key)
        )
    page = leads[start : start + query.per_page]
    cursor = None
    if page and start + len(page) < len(leads):
        position = ListPosition("sort", order_key(field, page[-1]), page[-1].id, listed_before + len(page))
        cursor = list_cursors.issue(position, bound_to, get_settings())
    return page, cursor


def _in_memory(
    store: LeadStore,
    tenant_id: str,
    ids: Iterable[int],
    keep: Callable[[Lead], bool],
) -> list[Lead]:
    """The leads of ``ids`` that ``keep`` keeps (one BatchGetItem per 100)."""
    return [lead for lead in store.get_many(tenant_id, ids).values() if keep(lead)]


def _search(
    principal: Principal,
    query: LeadQuery,
    store: LeadStore,
    assignees: frozenset[int] | None,
) -> tuple[list[Lead], bool]:
    """The leads matching the search and the filters, and whether the matches were capped:
    each term's leads from SEARCH (its matching entries), the fewest read whole, every term and
    filter checked on them."""
    terms = search_terms(query.search or "")
    if terms is None:
        return [], False
    found = [store.search_ids(principal.tenant_id, term, cap=MAX_MATCHES) for term in terms]
    ids, capped = min(found, key=lambda ids_capped: (ids_capped[1], len(ids_capped[0])))
    for other, other_capped in found:
        if not other_capped:  # a capped term's ids are some of its matches: the leads are checked
            ids = ids & other

    def keep(lead: Lead) -> bool:
        return search_tokens.matches(lead, terms) and _lead_matches(lead, query, assignees)

    return _in_memory(store, principal.tenant_id, sorted(ids)[:MAX_MATCHES], keep), capped


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
    if query.search:
        matching, capped = _search(principal, query, store, assignees)
        found, cursor = _page_of(matching, query, after, listed_before, bound_to)
        return LeadPageResult(found, len(matching), query, "search", listed_before, cursor, capped)

    stats = store.stats(tenant_id)
    plan = _entry_plan(tenant_id, query, assignees, query.sort_by, stats)
    if plan.filters.created_from or plan.filters.created_to:
        # Dates, sorted by another field: the range's leads, from the creation-time entries,
        # when they are few enough to sort in memory; else the field's order, dates filtered.
        dated = _entry_plan(tenant_id, query, assignees, "created_at", stats)
        count, capped = _total(store, dated, stats)
        if not capped and count <= MAX_MATCHES:
            ids = [
                lead_id
                for _, lead_id in store.iter_entries(
                    dated.partitions, forward=True, bounds=dated.bounds, filters=dated.filters
                )
            ]
            leads = _in_memory(store, tenant_id, ids, lambda lead: _lead_matches(lead, query, assignees))
            shown, cursor = _page_of(leads, query, after, listed_before, bound_to)
            return LeadPageResult(
                shown, len(leads), query, f"{dated.described}, sorted", listed_before, cursor
            )
        total, total_capped = count, capped
    else:
        total, total_capped = _total(store, plan, stats)
    result = LeadPageResult([], total, query, plan.described, listed_before, total_capped=total_capped)
    if after is None and query.offset >= total and not total_capped:
        return result
    read = store.read_entries(
        plan.partitions,
        forward=forward,
        count=query.per_page + (0 if after else query.offset),
        bounds=plan.bounds,
        filters=plan.filters,
        after=after.sort_key if after else None,
    )
    keys = read.keys if after else read.keys[query.offset :]
    by_id = store.get_many(tenant_id, (lead_id for _, lead_id in keys))
    result.leads = [by_id[lead_id] for _, lead_id in keys if lead_id in by_id]
    if read.more and keys:
        last_key, last_id = keys[-1]
        position = ListPosition("sort", last_key, last_id, listed_before + len(keys))
        result.next_cursor = list_cursors.issue(position, bound_to, settings)
    return result


def all_leads(
    principal: Principal, query: LeadQuery, store: LeadStore, directory: DirectoryStore
) -> Iterator[Lead]:
    """Every lead ``GET /leads`` would list with these filters, scope and sort (``page`` and
    ``per_page`` ignored), streamed: the index or entries that hold the order are read a page at
    a time and their leads fetched 100 at a time (memory stays flat); a search's matches (at
    most ``MAX_MATCHES``) are sorted in memory."""
    tenant_id = principal.tenant_id
    assignees = _assignees(principal, query, directory)
    if assignees is not None and not assignees:
        return
    forward = query.sort_dir == "ASC"
    order = _index_plan(query, assignees)
    if order is not None:
        yield from store.iter_leads_in_order(tenant_id, order, forward=forward)
        return
    if query.search:
        matching, _ = _search(principal, query, store, assignees)
        matching.sort(key=lambda lead: order_key(query.sort_by, lead), reverse=not forward)
        yield from matching
        return
    plan = _entry_plan(tenant_id, query, assignees, query.sort_by, store.stats(tenant_id))
    entries = store.iter_entries(plan.partitions, forward=forward, bounds=plan.bounds, filters=plan.filters)
    batch: list[int] = []
    for _, lead_id in entries:
        batch.append(lead_id)
        if len(batch) == FULL_LEADS_BATCH:
            found = store.get_many(tenant_id, batch)
            yield from (found[i] for i in batch if i in found)
            batch = []
    found = store.get_many(tenant_id, batch)
    yield from (found[i] for i in batch if i in found)
