"""GET /leads: every query parameter of the contract, paging, order, scope, and what it costs."""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.emulator import Emulator
from leads_shared import list_cursors
from leads_shared.config import get_settings
from leads_shared.data import get_directory_store
from leads_shared.keys import LeadKeys, tenant_pk
from leads_shared.lead_listing import LeadFilters
from leads_shared.models.directory import User
from leads_shared.models.leads import Lead
from tests.support.bulk_leads import bulk_leads
from tests.support.clients import Caller, Tenant, make_tenant

PAGE_KEYS = {"data", "current_page", "last_page", "per_page", "total", "next_cursor", "total_capped"}


def all_pages(caller: Caller, per_page: int, **query: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in itertools.count(1):
        body = caller.get("/leads", query={**query, "page": page, "per_page": per_page}).json
        found.extend(body["data"])
        if page >= body["last_page"]:
            return found


def expected_order(leads: list[Lead], sort_by: str, descending: bool) -> list[int]:
    field = {"company_name": "company"}.get(sort_by, sort_by)

    def key(lead: Lead) -> tuple:
        if sort_by == "name":
            return (lead.first_name.casefold(), lead.last_name.casefold(), lead.id)
        return ((getattr(lead, field) or "").casefold(), lead.id)

    return [lead.id for lead in sorted(leads, key=key, reverse=descending)]


def _tenant_items(emulator: Emulator, tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's own items (users, teams, counters) and its leads, as stored."""
    dynamodb = emulator.client("dynamodb")
    table = emulator.resources["LeadsTable"].name
    items = []
    for index, key, value in (
        (None, "PK", tenant_pk(tenant_id)),
        ("GSI1", "GSI1PK", LeadKeys.all_leads(tenant_id)),
    ):
        request: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": key},
            "ExpressionAttributeValues": {":v": {"S": value}},
            **({"IndexName": index} if index else {}),
        }
        while True:
            page = dynamodb.query(**request)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items


@pytest.fixture(scope="module")
def shared_seed(gateway, emulator) -> tuple[Tenant, list[Lead], list[dict[str, Any]]]:
    """120 leads in a tenant of their own, seeded once for the module's tests that only read
    them; and the tenant's items as stored then."""
    tenant = make_tenant(gateway)
    leads = bulk_leads(tenant.tenant_id, 120)
    return tenant, leads, _tenant_items(emulator, tenant.tenant_id)


@pytest.fixture
def seeded(shared_seed, emulator) -> Iterator[tuple[Tenant, list[Lead]]]:
    """The module's 120 leads, shared by the tests that only read them: each must leave the
    tenant as it found it (a test that writes takes ``own_seeded``)."""
    tenant, leads, stored = shared_seed
    yield tenant, leads
    assert _tenant_items(emulator, tenant.tenant_id) == stored, "a test wrote to the shared tenant"


@pytest.fixture
def own_seeded(tenant: Tenant) -> tuple[Tenant, list[Lead]]:
    """120 leads in the test's own tenant, for a test that writes."""
    return tenant, bulk_leads(tenant.tenant_id, 120)


def test_default_page_is_by_name_with_the_contract_shape(seeded):
    tenant, leads = seeded
    body = tenant.as_user(2).get("/leads").json
    assert set(body) == PAGE_KEYS
    assert (body["current_page"], body["last_page"], body["per_page"], body["total"]) == (1, 5, 25, 120)
    assert [lead["id"] for lead in body["data"]] == expected_order(leads, "name", False)[:25]


@pytest.mark.parametrize("sort_by", ["name", "email", "company_name", "status", "source", "assigned_to_name",
                                     "created_at"])  # fmt: skip
@pytest.mark.parametrize("sort_dir", ["ASC", "desc"])
def test_every_sort_pages_through_all_leads_once_in_order(seeded, sort_by, sort_dir):
    tenant, leads = seeded
    found = all_pages(tenant.as_user(2), 50, sort_by=sort_by, sort_dir=sort_dir)
    assert [lead["id"] for lead in found] == expected_order(leads, sort_by, sort_dir.upper() == "DESC")


@pytest.mark.parametrize(
    ("query", "predicate"),
    [
        ({"status": "contacted"}, lambda lead: lead.status == "contacted"),
        ({"source": "referral"}, lambda lead: lead.source == "Referral"),
        ({"assigned_to": 3}, lambda lead: lead.assigned_to == 3),
        # word prefixes: "ann" finds Anna too
        ({"search": "ANN ADAMS"},
         lambda lead: lead.first_name.casefold().startswith("ann") and lead.last_name.casefold() == "adams"),
        ({"search": "example.com"}, lambda lead: lead.email is not None),
        ({"search": "gmbh"}, lambda lead: lead.company == "beta GmbH"),
        ({"search": "555 0042"}, lambda lead: lead.phone == "+1 555 0042"),
        ({"date_from": "2026-01-03", "date_to": "2026-01-04"},
         lambda lead: "2026-01-03" <= lead.created_at[:10] <= "2026-01-04"),
        ({"status": "new", "assigned_to": 1}, lambda lead: lead.status == "new" and lead.assigned_to == 1),
        ({"scope": "me"}, lambda lead: lead.assigned_to == 2),
        ({"scope": "team"}, lambda lead: lead.assigned_to in (1, 2)),
        ({"scope": "company"}, lambda lead: True),
        ({"scope": "me", "assigned_to": 3}, lambda lead: False),
        ({"scope": "team", "status": "qualified", "sort_by": "created_at"},
         lambda lead: lead.assigned_to in (1, 2) and lead.status == "qualified"),
    ],
)  # fmt: skip
def test_filters_and_scopes(seeded, query, predicate):
    tenant, leads = seeded
    bob = tenant.as_user(2)  # team 1 with Alice
    found = all_pages(bob, 100, **query)
    wanted = [lead for lead in leads if predicate(lead)]
    assert sorted(lead["id"] for lead in found) == sorted(lead.id for lead in wanted)
    assert bob.get("/leads", query={**query, "per_page": 5}).json["total"] == len(wanted)


def test_team_scope_follows_the_users_team_when_the_token_has_none(seeded):
    tenant, leads = seeded
    carol = tenant.as_user(3, team_id=None)  # her user record says team 2
    found = all_pages(carol, 100, scope="team")
    assert sorted(lead["id"] for lead in found) == sorted(lead.id for lead in leads if lead.assigned_to == 3)


def test_paging_edges(seeded):
    tenant, _ = seeded
    bob = tenant.as_user(2)
    past = bob.get("/leads", query={"page": 99}).json
    assert past["data"] == [] and past["total"] == 120 and past["current_page"] == 99
    assert past["last_page"] == 5
    largest = bob.get("/leads", query={"per_page": 100}).json
    assert largest["per_page"] == 100 and len(largest["data"]) == 100 and largest["last_page"] == 2
    last = bob.get("/leads", query={"page": 5}).json
    assert len(last["data"]) == 20


def test_empty_tenant(tenant):
    body = tenant.as_user(2).get("/leads").json
    assert body == {
        "data": [],
        "current_page": 1,
        "last_page": 1,
        "per_page": 25,
        "total": 0,
        "next_cursor": None,
        "total_capped": False,
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": str(10**9)}, "page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "100000"}, "per_page"),
        ({"status": "won"}, "status"),
        ({"assigned_to": "bob"}, "assigned_to"),
        ({"date_from": "15/01/2026"}, "date_from"),
        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_to"),
        ({"scope": "world"}, "scope"),
        ({"sort_by": "password"}, "sort_by"),
        ({"sort_dir": "sideways"}, "sort_dir"),
        ({"search": "x" * 100_000}, "search"),
    ],
)
def test_invalid_query_values_are_422_naming_the_field(bob, query, field):
    response = bob.get("/leads", query=query)
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert response.json["message"]


# ------------------------------------------------------------------ cost
# ------------------------------------------------------------------ cursors
def cursor_pages(caller: Caller, per_page: int, between: Any = None, **query: Any) -> list[dict[str, Any]]:
    """Every page by ``next_cursor`` from the first (``between(n)`` runs after page n)."""
    pages = [caller.get("/leads", query={**query, "per_page": per_page}).json]
    while pages[-1]["next_cursor"]:
        if between:
            between(len(pages))
        response = caller.get(
            "/leads", query={**query, "per_page": per_page, "cursor": pages[-1]["next_cursor"]}
        )
        assert response.status_code == 200, response.json
        pages.append(response.json)
    return pages


@pytest.mark.parametrize(
    "query",
    [{}, {"sort_dir": "desc"}, {"status": "new"}, {"scope": "me"},
     {"sort_by": "created_at", "sort_dir": "desc"}, {"sort_by": "email"},
     {"sort_by": "company_name", "sort_dir": "desc"}, {"search": "ann"}],
)  # fmt: skip
def test_cursors_page_through_every_lead_once_in_order(seeded, query):
    tenant, _ = seeded
    bob = tenant.as_user(2)
    pages = cursor_pages(bob, 7, **query)
    listed = [lead["id"] for page in pages for lead in page["data"]]
    assert listed == [lead["id"] for lead in all_pages(bob, 100, **query)]
    assert len(listed) == pages[0]["total"]
    assert [page["current_page"] for page in pages] == list(range(1, len(pages) + 1))
    assert pages[-1]["next_cursor"] is None and len(pages[-1]["data"]) > 0


def test_a_page_asked_by_number_carries_the_cursor_of_the_next(seeded):
    tenant, _ = seeded
    bob = tenant.as_user(2)
    third = bob.get("/leads", query={"page": 3, "per_page": 10}).json
    fourth = bob.get("/leads", query={"page": 4, "per_page": 10}).json
    by_cursor = bob.get("/leads", query={"per_page": 10, "cursor": third["next_cursor"]}).json
    assert by_cursor == fourth
    assert bob.get("/leads", query={"page": 12, "per_page": 10}).json["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    [{}, {"sort_by": "created_at"}, {"sort_by": "email", "sort_dir": "desc"},
     {"scope": "team", "sort_by": "source"},
     {"source": "website", "sort_by": "company_name", "sort_dir": "desc"}],
)  # fmt: skip
def test_cursors_neither_repeat_nor_skip_while_leads_come_and_go(own_seeded, query):
    """Between pages a lead is created (sorting anywhere) and two are deleted (one listed
    already, one not yet): every lead that existed throughout is listed exactly once."""
    tenant, _ = own_seeded
    bob, alice = tenant.as_user(2), tenant.as_user(1)
    order = [lead["id"] for lead in all_pages(bob, 100, **query)]
    deleted: set[int] = set()
    created: set[int] = set()
    listed: list[int] = []

    def churn(pages_done: int) -> None:
        position = len(listed)
        for lead_id in (
            order[min(len(order) - 1, max(0, position - 3))],
            order[min(len(order) - 1, position + 4)],
        ):
            if lead_id not in deleted and alice.delete(f"/leads/{lead_id}").status_code == 200:
                deleted.add(lead_id)
        first = ["aaron", "mike", "zz"][pages_done % 3]
        new = alice.post(
            "/leads", {"first_name": first, "last_name": "New", "email": f"{first}{pages_done}@x.io"}
        )
        created.add(new.json["id"])

    pages = [bob.get("/leads", query={**query, "per_page": 7}).json]
    listed.extend(lead["id"] for lead in pages[0]["data"])
    while pages[-1]["next_cursor"]:
        churn(len(pages))
        page = bob.get("/leads", query={**query, "per_page": 7, "cursor": pages[-1]["next_cursor"]}).json
        pages.append(page)
        listed.extend(lead["id"] for lead in page["data"])
    assert len(listed) == len(set(listed)), "a lead was listed twice"
    throughout = set(order) - deleted
    assert throughout <= set(listed), f"skipped: {sorted(throughout - set(listed))}"
    assert set(listed) <= set(order) | created
    assert len(deleted) >= len(pages) - 1 >= 4  # a lead deleted (at least) between any two pages


@pytest.fixture
def first_page(seeded) -> tuple[Tenant, dict[str, Any]]:
    tenant, _ = seeded
    return tenant, tenant.as_user(2).get("/leads", query={"status": "new", "per_page": 5}).json


def _refused(caller: Caller, cursor: str, **query: Any) -> str:
    response = caller.get("/leads", query={"status": "new", "per_page": 5, **query, "cursor": cursor})
    assert response.status_code == 422, response.json
    assert set(response.json) == {"message", "errors"} and list(response.json["errors"]) == ["cursor"]
    return response.json["errors"]["cursor"][0]


def test_a_cursor_of_another_query_tenant_or_user_is_422(first_page, other_tenant):
    tenant, page = first_page
    cursor = page["next_cursor"]
    another = "The cursor belongs to another query: send it with the filters, scope and sort it came with."
    assert _refused(tenant.as_user(2), cursor, status="contacted") == another
    assert _refused(tenant.as_user(2), cursor, sort_dir="desc") == another
    assert _refused(tenant.as_user(2), cursor, status="") == another  # no filter: another query
    assert _refused(tenant.as_user(3), cursor) == another  # another user of the tenant
    assert _refused(other_tenant.as_user(2), cursor) == another
    # per_page may change between pages
    assert (
        tenant.as_user(2).get("/leads", query={"status": "new", "per_page": 9, "cursor": cursor}).status_code
        == 200
    )


def test_an_altered_or_made_up_cursor_is_422(first_page):
    tenant, page = first_page
    bob = tenant.as_user(2)
    payload, signature = page["next_cursor"].split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["lead_id"] += 1
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    for cursor in (f"{forged}.{signature}", f"{payload}.{signature[:-2]}", payload, "abc", "a.b.c", "é" * 10):
        assert _refused(bob, cursor) == "The cursor is invalid."
    assert bob.get("/leads", query={"cursor": "x" * 3000}).status_code == 422


def test_an_expired_cursor_is_422(first_page):
    tenant, _ = first_page
    query = LeadFilters(status="new").query()
    bound = list_cursors.binding(tenant.tenant_id, 2, query.filters)
    position = list_cursors.ListPosition("sort", "ann\x01adams\x01000000000001", 1, 5)
    settings = get_settings()
    old = list_cursors.issue(position, bound, settings, now=time.time() - settings.list_cursor_seconds - 1)
    fresh = list_cursors.issue(position, bound, settings, now=time.time() - settings.list_cursor_seconds + 60)
    assert old and fresh
    assert _refused(tenant.as_user(2), old) == "The cursor has expired: start again from the first page."
    assert (
        tenant.as_user(2).get("/leads", query={"status": "new", "per_page": 5, "cursor": fresh}).status_code
        == 200
    )


def test_a_cursor_carries_on_when_the_plan_changes_with_the_team(own_seeded):
    """Carol is alone in team 2: her team's list by name is one assignee's index. A colleague
    joins between pages: the rest comes from the narrow list, after the same position."""
    tenant, leads = own_seeded
    carol = tenant.as_user(3)
    first = carol.get("/leads", query={"scope": "team", "per_page": 10}).json
    get_directory_store().put_user(
        User(tenant_id=tenant.tenant_id, id=4, name="Dan Doe", email="dan@x.io", role="user", team_id=2)
    )
    pages = [first]
    while pages[-1]["next_cursor"]:
        query = {"scope": "team", "per_page": 10, "cursor": pages[-1]["next_cursor"]}
        pages.append(carol.get("/leads", query=query).json)
    listed = [lead["id"] for page in pages for lead in page["data"]]
    assert listed == expected_order([lead for lead in leads if lead.assigned_to == 3], "name", False)
