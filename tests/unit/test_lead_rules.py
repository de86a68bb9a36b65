"""Pure lead rules: sort keys, counters, ETags, and which index answers a list query."""

from __future__ import annotations

import random

import pytest

from leads_shared.data.lead_counters import counter_deltas
from leads_shared.errors import ValidationFailed
from leads_shared.keys import LeadKeys, name_sort_key, order_key
from leads_shared.lead_listing import LeadQuery, _index_plan, _lead_matches
from leads_shared.leads import matches_etag
from leads_shared.models.leads import Lead

NOW = "2026-01-15T09:30:00.000000Z"


def lead(**fields) -> Lead:
    base = dict(tenant_id="acme", id=1, first_name="John", last_name="Doe", created_at=NOW, updated_at=NOW)
    return Lead(**{**base, **fields})


def test_name_key_orders_by_first_then_last_name_ignoring_case_then_id():
    people = [
        ("anna", "B", 5),
        ("Ann", "Smith", 9),
        ("ANN", "smith", 2),
        ("Ann", "Adams", 7),
        ("Bob", "A", 1),
        ("ann marie", "A", 3),
    ]
    ordered = sorted(people, key=lambda p: name_sort_key(*p))
    expected = sorted(people, key=lambda p: (p[0].casefold(), p[1].casefold(), p[2]))
    assert ordered == expected


def test_the_name_order_of_the_entries_is_the_name_indexes_order():
    leads = [
        lead(id=i, first_name=random.choice(["A", "b", "B", "a"]), last_name=random.choice("xYz"))
        for i in range(1, 60)
    ]
    by_entries = sorted(leads, key=lambda one: order_key("name", one))
    by_index = sorted(leads, key=lambda one: LeadKeys.all_keys(one)["GSI1SK"])
    assert by_entries == by_index


def test_counter_deltas_follow_status_and_assignee():
    before = lead(status="new", assigned_to=1)
    after = lead(status="contacted", assigned_to=2)
    assert counter_deltas(None, before) == {"total": 1, "status_new": 1, "user_1": 1}
    assert counter_deltas(before, None) == {"total": -1, "status_new": -1, "user_1": -1}
    assert counter_deltas(before, after) == {
        "status_new": -1,
        "status_contacted": 1,
        "user_1": -1,
        "user_2": 1,
    }
    assert counter_deltas(before, lead(status="new", assigned_to=1, notes="x")) == {}


def test_keys_of_an_unassigned_lead_leave_it_out_of_the_assignee_index():
    keys = LeadKeys.all_keys(lead())
    assert "GSI3PK" not in keys
    assert keys["PK"] == "TENANT#acme#LEAD#1"
    assert LeadKeys.all_keys(lead(assigned_to=4))["GSI3PK"] == "TENANT#acme#LEADS#USER#4"


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (None, True),
        ("*", True),
        ('"3"', True),
        ('W/"3"', True),
        ('"1", "3"', True),
        ('"2"', False),
        ("3", True),  # unquoted: a client copying the version
        (" W/3 ", True),
        ("2", False),
        ("33", False),
    ],
)
def test_if_match(header, ok):
    assert matches_etag(header, lead(version=3)) is ok


def test_index_plans():
    t = "acme"

    def index_of(query, assignees=None):
        plan = _index_plan(query, assignees)
        return plan and (plan.partition(t).index, plan.partition(t).value, plan.counter)

    assert index_of(LeadQuery()) == ("GSI1", "TENANT#acme#LEADS", "total")
    assert index_of(LeadQuery(status="new")) == ("GSI2", "TENANT#acme#LEADS#STATUS#new", "status_new")
    assert index_of(LeadQuery(), frozenset({3})) == ("GSI3", "TENANT#acme#LEADS#USER#3", "user_3")
    assert index_of(LeadQuery(sort_by="created_at", sort_dir="DESC")) == (
        "LIST",
        "TENANT#acme#LEADS",
        "total",
    )
    for query, assignees in [
        (LeadQuery(search="x"), None),
        (LeadQuery(source="Web"), None),
        (LeadQuery(status="new"), frozenset({1})),
        (LeadQuery(), frozenset({1, 2})),
        (LeadQuery(sort_by="email"), None),
    ]:
        assert _index_plan(query, assignees) is None


def test_sort_keys_fit_dynamodb_limits_whatever_the_names():
    """An index sort key is at most 1,024 bytes; names are up to 255 characters of any script."""
    key = name_sort_key("名" * 255, "字" * 255, 10**11)
    assert len(key.encode()) <= 1024
    assert name_sort_key("名" * 255, "a", 1) < name_sort_key("名" * 255, "b", 1)


def test_filters_on_a_lead_read():
    one = lead(status="new", source="Website", assigned_to=2, created_at="2026-01-15T23:59:59.000000Z")
    assert _lead_matches(one, LeadQuery(source="website"), None)
    assert not _lead_matches(one, LeadQuery(source="web"), None)
    assert not _lead_matches(one, LeadQuery(status="contacted"), None)
    assert not _lead_matches(one, LeadQuery(), frozenset({1}))
    assert _lead_matches(one, LeadQuery(), frozenset({1, 2}))
    assert _lead_matches(one, LeadQuery(date_from=_d("2026-01-15"), date_to=_d("2026-01-15")), None)
    assert not _lead_matches(one, LeadQuery(date_from=_d("2026-01-16")), None)
    assert not _lead_matches(one, LeadQuery(date_to=_d("2026-01-14")), None)


def test_query_refuses_oversized_pages_and_reversed_dates():
    with pytest.raises(ValidationFailed):
        LeadQuery(per_page=101)
    with pytest.raises(ValidationFailed):
        LeadQuery(date_from=_d("2026-02-01"), date_to=_d("2026-01-01"))


def _d(text):
    from datetime import date

    return date.fromisoformat(text)


class _SearchStore:
    """search_ids and get_many of a store: 'jo' matches more leads than the cap (its ids are
    some of them), 'doe' matches lead 3 alone."""

    def __init__(self, leads: list[Lead]) -> None:
        self.leads = {one.id: one for one in leads}

    def search_ids(self, tenant_id: str, term: str, *, cap: int) -> tuple[set[int], bool]:
        return ({1, 2}, True) if term == "jo" else ({3}, False)

    def get_many(self, tenant_id: str, ids) -> dict[int, Lead]:
        return {i: self.leads[i] for i in ids if i in self.leads}


def test_a_search_reads_its_rarest_term_and_checks_the_others_on_the_leads():
    from leads_shared.auth import Principal
    from leads_shared.lead_listing import _search

    leads = [lead(id=1, last_name="Smith"), lead(id=2, last_name="Smith"), lead(id=3, first_name="Joan")]
    caller = Principal(user_id=1, tenant_id="acme", role="admin", team_id=1)
    found, capped = _search(caller, LeadQuery(search="jo doe"), _SearchStore(leads), None)  # type: ignore[arg-type]
    assert [one.id for one in found] == [3] and capped is False  # exact: every "doe" lead is known
