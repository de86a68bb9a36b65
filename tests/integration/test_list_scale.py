"""``GET /leads`` at scale: every filter alone and combined, each sort, each scope, with or
without ``search``, reads what the page needs (and, where no counter holds the total, what
matches), never the tenant. Two tenants with the same kind of data, of ``SMALL`` and ``LARGE``
leads, answer each query at the same cost; where the cost grows, it grows only with the
matches. The counts are DynamoDB's own (requests and items read: ``ScannedCount`` for a Query),
so they are the same on AWS; the emulator only makes them slow to get."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from leads_shared import identity
from leads_shared.keys import ORDER_FIELDS
from tests.support.bulk_leads import bulk_leads
from tests.support.clients import Caller, Tenant, lead_body, make_tenant

SMALL, LARGE = 1_000, 10_000
PER_PAGE = 25
# Three leads no bulk lead resembles, in both tenants: a search for them matches 3 in each.
RARE = [("Quentin", "Zyxland", "Zyx Works"), ("Quinn", "Zyxwell", None), ("Quade", "Other", "Zyx Labs")]
# Bulk leads are made one hour apart from 2026-01-01: these days hold 48 leads in both tenants.
DAYS = {"date_from": "2026-01-03", "date_to": "2026-01-04"}


@pytest.fixture(scope="module", autouse=True)
def callers_remembered_throughout() -> Iterator[None]:
    """A container remembers a caller for 60 s (``identity_cache_seconds``), then looks the user
    up again: in this module's minutes, that lookup would land in a measured request now and
    then. The costs compared are the list's: callers stay remembered while it runs."""
    remember = identity.remembered.put
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(identity.remembered, "put", lambda caller, user, ttl: remember(caller, user, 3600.0))
        yield


@pytest.fixture(scope="module")
def sized(gateway) -> dict[int, Tenant]:
    tenants = {}
    for count in (SMALL, LARGE):
        tenant = make_tenant(gateway)
        bulk_leads(tenant.tenant_id, count)
        admin = tenant.as_user(1)
        for first, last, company in RARE:
            body = lead_body(
                first_name=first, last_name=last, email=f"{first}.{last}@rare.example", company=company
            )
            assert admin.post("/leads", body).status_code == 201
        tenants[count] = tenant
    return tenants


def cost(tenant: Tenant, **query: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    caller: Caller = tenant.as_user(2)  # Bob: team 1 with Alice (users 1 and 2)
    response = caller.get("/leads", query={"per_page": PER_PAGE, **query})
    assert response.status_code == 200, response.json
    return response.json, caller.last_cost


def same_cost(sized: dict[int, Tenant], **query: Any) -> dict[str, Any]:
    (small_body, small), (_, large) = (cost(sized[n], **query) for n in (SMALL, LARGE))
    assert small_body["data"], "the query should list something"
    assert small == large, (query, small, large)
    return small


# Filters whose total a counter holds (or whose matches are the same in both tenants): the same
# requests and items read at 1,000 and 10,000 leads, in every sort and both directions.
SAME_COST_FILTERS = [
    {},
    {"status": "contacted"},
    {"assigned_to": 3},
    {"scope": "me"},
    {"scope": "team"},
    DAYS,
    {"search": "zyx"},
    {"search": "qu zyx"},
    {"search": "zyx", "status": "new"},
]


@pytest.mark.parametrize("sort_by", ORDER_FIELDS)
@pytest.mark.parametrize(
    "query", SAME_COST_FILTERS, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) or "all"
)
def test_each_filter_and_sort_costs_the_same_at_ten_times_the_leads(sized, query, sort_by):
    for sort_dir in ("ASC", "DESC"):
        spent = same_cost(sized, **query, sort_by=sort_by, sort_dir=sort_dir)
        # A page: the counters, the page's entries (one more, per partition merged), its leads;
        # a date range or a search: its matches (48 leads, 3 leads), each an entry and a lead.
        assert spent["items_read"] <= 1 + 2 * (PER_PAGE + 1) + 2 * 48, (query, sort_by, spent)
        # a search: one Query per term and shard of SEARCH (4), one BatchGetItem of its leads
        terms = len(query.get("search", "").split())
        assert spent["requests"] <= (4 * terms + 2 if terms else 6), (query, sort_by, spent)


def test_a_search_matches_word_prefixes_of_every_term(sized):
    body, _ = cost(sized[SMALL], search="zyx")
    assert {lead["last_name"] for lead in body["data"]} == {"Zyxland", "Zyxwell", "Other"}
    body, _ = cost(sized[SMALL], search="QU ZYXW")
    assert [lead["last_name"] for lead in body["data"]] == ["Zyxwell"]
    body, _ = cost(sized[SMALL], search="rare.example")  # the email's domain
    assert body["total"] == 3
    body, _ = cost(sized[SMALL], search="yx")  # inside a word: not a prefix
    assert body["total"] == 0


@pytest.mark.parametrize("sort_by", ["email", "created_at"])
def test_a_source_costs_its_matches_not_the_tenant(sized, sort_by):
    """No counter holds a source's total: it is counted on the source's entries (keys only),
    so the cost grows with the source's leads (a third of the tenant here), capped at 10,000."""
    for count in (SMALL, LARGE):
        body, spent = cost(sized[count], source="Referral", sort_by=sort_by)
        matches = body["total"]
        assert spent["items_read"] <= 1 + min(matches, 10_001) + 2 * (PER_PAGE + 1)
        assert body["total_capped"] is (matches > 10_000 or body["total_capped"])


def test_combined_filters_read_the_most_selective_partition(sized):
    """status and assignee: the smaller partition by the counters, the other as a filter; the
    count reads that partition (its matches of one filter), the page a share of it."""
    for count in (SMALL, LARGE):
        body, spent = cost(sized[count], status="new", assigned_to=3, sort_by="email")
        assert body["data"] and all(
            one["status"] == "new" and one["assigned_to"] == 3 for one in body["data"]
        )
        # one of four statuses, one of four assignees: the partition is about a quarter
        assert spent["items_read"] <= 1 + count // 4 * 1.2 + 4 * (PER_PAGE + 1) + PER_PAGE


@pytest.mark.parametrize("sort_by", ["email", "created_at", "name"])
@pytest.mark.parametrize("query", [{}, {"status": "contacted"}, {"scope": "team"}, {"source": "Website"}])
def test_a_page_by_cursor_costs_the_same_at_any_depth(sized, query, sort_by):
    """Page 2 of the small tenant and the page after page 40 of the large one: the same reads."""
    shallow = cost(sized[SMALL], **query, sort_by=sort_by, per_page=10)[0]["next_cursor"]
    deep = cost(sized[LARGE], **query, sort_by=sort_by, per_page=10, page=40)[0]["next_cursor"]
    spent = []
    for count, cursor in ((SMALL, shallow), (LARGE, deep)):
        body, page_cost = cost(sized[count], **query, sort_by=sort_by, per_page=20, cursor=cursor)
        assert len(body["data"]) == 20
        spent.append(page_cost)
    if "source" in query:  # its total is counted: the page costs the same, the count its matches
        for page_cost, count in zip(spent, (SMALL, LARGE), strict=True):
            assert page_cost["items_read"] <= 1 + min(count // 3 * 1.2, 10_001) + 2 * 22
    else:
        assert spent[0] == spent[1]
