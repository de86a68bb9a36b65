"""GET /leads/{id}/duplicates: the tenant's leads and contacts that look like the same person (the
same email, phone, or name and company), best first, found through the match entries and LOOKUP
written in each lead's own transactions (``leads_shared.duplicates``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from leads_shared.data import get_lead_store
from leads_shared.data.lead_entries import ENTRIES_MARKER, entries
from leads_shared.data.lead_store import lead_to_item
from leads_shared.index_backfill import backfill_tenant
from leads_shared.keys import LeadIndexKeys
from leads_shared.models.leads import Lead
from tests.support.bulk_leads import bulk_leads
from tests.support.clients import Caller, lead_body

FIELDS = {"id", "first_name", "last_name", "email", "phone", "company", "status", "type", "reasons", "score"}


def lead(caller: Caller, **fields: Any) -> int:
    fields.setdefault("email", None)
    response = caller.post("/leads", lead_body(**fields))
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def duplicates(caller: Caller, lead_id: int) -> list[dict[str, Any]]:
    response = caller.get(f"/leads/{lead_id}/duplicates")
    assert response.status_code == 200, response.json
    assert response.json["total"] == len(response.json["data"])
    return response.json["data"]


def found(caller: Caller, lead_id: int) -> list[tuple[int, str, list[str], int]]:
    return [(d["id"], d["type"], d["reasons"], d["score"]) for d in duplicates(caller, lead_id)]


def test_sixteen_concurrent_creates_with_one_email_find_each_other(bob):
    def create(n: int) -> int:
        return lead(bob, first_name=f"Ann{n}", email="Same@Example.com" if n % 2 else "same@example.com")

    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(create, range(16)))
    assert len(set(ids)) == 16
    for one in ids:
        listed = duplicates(bob, one)
        assert [d["id"] for d in listed] == sorted(set(ids) - {one})
        assert {(d["type"], tuple(d["reasons"]), d["score"]) for d in listed} == {("lead", ("email",), 60)}
        assert all(set(d) == FIELDS for d in listed)


def test_a_phone_matches_across_formats_with_its_country_code(bob):
    typed = lead(bob, first_name="Ann", phone="+1 (555) 010-2030")
    digits = lead(bob, first_name="Bea", phone="15550102030")
    international = lead(bob, first_name="Cy", phone="001 555 010 2030")
    national = lead(bob, first_name="Dee", phone="(555) 010-2030")  # no country code: not guessed
    assert found(bob, typed) == [(digits, "lead", ["phone"], 30), (international, "lead", ["phone"], 30)]
    assert found(bob, national) == []


def test_name_and_company_match_folded_and_only_with_a_company(bob):
    jose = lead(bob, first_name="José", last_name="Núñez", company="ACME, Inc.")
    folded = lead(bob, first_name="jose", last_name="nunez", company="Acme")
    lead(bob, first_name="José", last_name="Núñez")  # no company: no name match
    lead(bob, first_name="José", last_name="Nunes", company="Acme")
    lead(bob, first_name="José", last_name="Núñez", company="Acme Widgets")
    assert found(bob, jose) == [(folded, "lead", ["name_company"], 25)]
    (match,) = duplicates(bob, folded)
    assert (match["id"], match["first_name"], match["company"], match["status"]) == (
        jose,
        "José",
        "ACME, Inc.",
        "new",
    )


def test_best_first_scores_add_up_to_at_most_100_then_by_id(bob):
    ann = lead(
        bob, first_name="Ann", last_name="Lee", email="ann@x.io", phone="+44 20 7946 0000", company="Lee Ltd"
    )
    by_phone = lead(bob, first_name="Pat", phone="0044 20 7946 0000")
    by_email = lead(bob, first_name="Eve", email="ANN@x.io")
    same = lead(
        bob, first_name="ann", last_name="LEE", email="ann@x.io", phone="442079460000", company="Lee Limited"
    )
    by_email_too = lead(bob, first_name="Ed", email="Ann@X.IO")
    assert found(bob, ann) == [
        (same, "lead", ["email", "phone", "name_company"], 100),
        (by_email, "lead", ["email"], 60),
        (by_email_too, "lead", ["email"], 60),
        (by_phone, "lead", ["phone"], 30),
    ]


def test_a_trashed_lead_is_no_duplicate_until_restored(bob):
    first = lead(bob, email="twin@x.io", phone="+1 555 010 7777")
    second = lead(bob, first_name="Jo", email="twin@x.io", phone="1 555 010 7777")
    assert found(bob, first) == [(second, "lead", ["email", "phone"], 90)]
    assert bob.delete(f"/leads/{second}").status_code == 200
    assert found(bob, first) == []
    assert bob.get(f"/leads/{second}/duplicates").status_code == 404
    assert bob.post(f"/leads/{second}/restore").status_code == 200
    assert found(bob, first) == [(second, "lead", ["email", "phone"], 90)]
    assert found(bob, second) == [(first, "lead", ["email", "phone"], 90)]


def test_a_lead_changed_to_another_email_or_phone_stops_matching(bob):
    first = lead(bob, email="old@x.io", phone="+1 555 010 8888")
    second = lead(bob, first_name="Jo", email="OLD@x.io", phone="+1 555 010 8888")
    response = bob.put(f"/leads/{second}", {"first_name": "Jo", "last_name": "Doe", "email": "new@x.io"})
    assert response.status_code == 200
    assert found(bob, first) == [(second, "lead", ["phone"], 30)]
    response = bob.put(
        f"/leads/{second}", {"first_name": "Jo", "last_name": "Doe", "phone": "+1 555 010 9999"}
    )
    assert response.status_code == 200
    assert found(bob, first) == []


def test_contacts_with_the_email_are_duplicates_but_not_the_leads_own(bob):
    qualified = lead(bob, first_name="Quinn", email="quinn@x.io", phone="+1 555 010 4444")
    contact_id = bob.post(f"/leads/{qualified}/qualify", {}).json["contact_id"]
    later = lead(bob, first_name="Quinn", email="Quinn@X.io", phone="15550104444")
    assert found(bob, later) == [
        (qualified, "lead", ["email", "phone"], 90),
        (contact_id, "contact", ["email", "phone"], 90),
    ]
    assert found(bob, qualified) == [(later, "lead", ["email", "phone"], 90)]


def test_another_tenants_leads_never_appear_and_its_ids_are_not_found(bob, other_tenant):
    outsider = other_tenant.as_user(2)
    mine = [lead(bob, email="shared@x.io", phone="+1 555 010 5555") for _ in range(3)]
    theirs = lead(outsider, email="shared@x.io", phone="+1 555 010 5555")
    assert [d["id"] for d in duplicates(outsider, theirs)] == []
    assert [d["id"] for d in duplicates(bob, mine[0])] == mine[1:]
    assert outsider.get(f"/leads/{mine[2]}/duplicates").status_code == 404


def test_unknown_leads_are_404(bob):
    response = bob.get("/leads/999999/duplicates")
    assert response.status_code == 404 and response.json["message"] == "Lead not found."


def test_one_query_per_match_key_and_one_batch_get(bob):
    rae = lead(bob, first_name="Rae", email="rae@x.io", phone="+1 555 010 3333", company="Acme")
    lead(bob, first_name="Sam", email="rae@x.io")  # read whole from LOOKUP
    lead(bob, first_name="Tom", phone="1-555-010-3333")  # by id: the BatchGetItem
    lead(bob, first_name="Rae", company="ACME Corp.")
    assert len(duplicates(bob, rae)) == 3
    assert bob.last_cost["by_operation"] == {"GetItem": 1, "Query": 3, "BatchGetItem": 1}
    alone = lead(bob, first_name="Uma")  # no email, phone or company: no key to read
    assert duplicates(bob, alone) == []
    assert bob.last_cost["by_operation"] == {"GetItem": 1}


def stored_before_match_entries(old: Lead) -> list[dict[str, Any]]:
    """A lead as the stack stored it before the match entries: marked 1, its other entries."""
    item = lead_to_item(old)
    item[ENTRIES_MARKER] = {"N": "1"}
    kept = [entry for key, entry in entries(old).items() if not key.startswith(LeadIndexKeys.MATCH)]
    return [item, *kept]


def test_the_backfill_writes_the_match_entries_of_leads_stored_before_them(tenant):
    stored = bulk_leads(tenant.tenant_id, 20, stored_as=stored_before_match_entries)
    store = get_lead_store()

    def match_entries() -> set[str]:
        return {
            key["SK"]
            for old in stored
            for key in store.get_with_children(tenant.tenant_id, old.id).children
            if key["SK"].startswith(LeadIndexKeys.MATCH)
        }

    assert match_entries() == set()
    run = backfill_tenant(store, tenant.tenant_id)
    assert (run.read, run.written) == (20, 20)
    assert "SAME#phone" in match_entries()
    assert backfill_tenant(store, tenant.tenant_id).written == 0
