"""A lead's duplicates (``leads_shared.duplicates``) on the in-memory stores: who is one, why,
and in which order."""

from __future__ import annotations

import pytest

from leads_shared.auth import Principal
from leads_shared.duplicates import MAX_DUPLICATES, find_duplicates
from leads_shared.errors import NotFound
from leads_shared.leads import create_lead
from leads_shared.models.leads import LeadCreate
from leads_shared.models.records import Contact
from leads_shared.recycle_bin import delete_lead
from tests.support.fake_store import FakeStores

ALICE = Principal(user_id=1, tenant_id="acme", role="admin", name="Alice")
OTHER = Principal(user_id=1, tenant_id="globex", role="admin", name="Olga")


def lead(stores: FakeStores, principal: Principal = ALICE, **fields) -> int:
    data = LeadCreate(**{"first_name": "Ann", "last_name": "Lee", **fields})
    return create_lead(principal, data, stores.leads, stores.mail).id


def why(stores: FakeStores, lead_id: int) -> list[tuple[int, str, list[str], int]]:
    return [(d.id, d.type, d.reasons, d.score) for d in find_duplicates(ALICE, lead_id, stores.leads)]


def test_reasons_scores_and_order():
    stores = FakeStores.new()
    ann = lead(stores, email="ann@x.io", phone="+1 555 010 2030", company="Lee Ltd")
    by_phone = lead(stores, first_name="Bo", phone="15550102030")
    same = lead(stores, email="ANN@x.io", phone="1-555-010-2030", company="LEE")
    by_name = lead(stores, company="lee limited")
    lead(stores, first_name="Cy", email="cy@x.io")
    lead(stores, OTHER, email="ann@x.io")
    assert why(stores, ann) == [
        (same, "lead", ["email", "phone", "name_company"], 100),
        (by_phone, "lead", ["phone"], 30),
        (by_name, "lead", ["name_company"], 25),
    ]


def test_trashed_leads_and_the_leads_own_contact_are_left_out_other_contacts_counted():
    stores = FakeStores.new()
    ann = lead(stores, email="ann@x.io")
    gone = lead(stores, email="ann@x.io")
    delete_lead(ALICE, gone, stores.leads, stores.trash)
    for contact_id, lead_of in ((7, ann), (8, None)):
        stores.table.contacts[("acme", contact_id)] = Contact(
            tenant_id="acme", id=contact_id, first_name="Ann", last_name="Lee", email="Ann@X.io",
            lead_id=lead_of, created_at="t", updated_at="t",
        )  # fmt: skip
    stores.table.leads[("acme", ann)].contact_id = 7
    assert why(stores, ann) == [(8, "contact", ["email"], 60)]
    with pytest.raises(NotFound):
        find_duplicates(ALICE, gone, stores.leads)


def test_at_most_fifty():
    stores = FakeStores.new()
    first = lead(stores, phone="+44 20 7946 0000")
    for _ in range(MAX_DUPLICATES + 5):
        lead(stores, phone="0044 20 7946 0000")
    found = find_duplicates(ALICE, first, stores.leads)
    assert len(found) == MAX_DUPLICATES and [d.id for d in found] == list(range(2, 2 + MAX_DUPLICATES))
