"""Duplicates at the door (``leads_shared.duplicate_check``) on the in-memory stores: what a create,
a ``PUT`` and a restore learn about the lead's likely duplicates, and what ``reject`` refuses."""

from __future__ import annotations

from typing import Any

import pytest

from leads_shared.auth import Principal
from leads_shared.duplicate_check import DuplicateCheck
from leads_shared.errors import DuplicatesFound
from leads_shared.leads import create_lead, update_lead
from leads_shared.models.leads import LeadCreate, LeadUpdate, OnDuplicate
from leads_shared.models.records import Contact
from leads_shared.recycle_bin import delete_lead, restore_lead
from tests.support.fake_store import FakeStores

ALICE = Principal(user_id=1, tenant_id="acme", role="admin", name="Alice")


def create(stores: FakeStores, on_duplicate: OnDuplicate = "allow", **fields: Any) -> DuplicateCheck:
    check = DuplicateCheck(stores.leads, on_duplicate)
    data = LeadCreate(**{"first_name": "Ann", "last_name": "Lee", **fields})
    create_lead(ALICE, data, stores.leads, stores.mail, check)
    return check


def update(
    stores: FakeStores, lead_id: int, on_duplicate: OnDuplicate = "allow", **fields: Any
) -> DuplicateCheck:
    check = DuplicateCheck(stores.leads, on_duplicate)
    data = LeadUpdate(**{"first_name": "Ann", "last_name": "Lee", **fields})
    update_lead(ALICE, lead_id, data, stores.leads, stores.mail, check=check)
    return check


def named(check: DuplicateCheck) -> list[tuple[int, str, list[str], int]] | None:
    return None if check.found is None else [(d.id, d.type, d.reasons, d.score) for d in check.found]


def test_a_create_learns_its_duplicates_best_first_and_allow_writes_it():
    stores = FakeStores.new()
    assert named(create(stores, email="ann@x.io")) == []
    create(stores, first_name="Bo", phone="+1 555 010 2030")
    check = create(stores, email="ANN@x.io", phone="15550102030")
    assert named(check) == [(1, "lead", ["email"], 60), (2, "lead", ["phone"], 30)]
    assert len(stores.table.leads) == 3


def test_reject_refuses_a_create_that_shares_any_key_and_writes_nothing():
    stores = FakeStores.new()
    create(stores, email="ann@x.io")
    with pytest.raises(DuplicatesFound) as refused:
        create(stores, "reject", first_name="Other", email=" Ann@X.io ")
    assert refused.value.duplicates == [{"id": 1, "type": "lead", "reasons": ["email"], "score": 60}]
    assert len(stores.table.leads) == 1 and stores.leads.stats("acme").total == 1
    assert named(create(stores, "reject", email="new@x.io")) == []  # nobody has it: written


def test_a_lead_without_match_keys_reads_nothing():
    stores = FakeStores.new()
    assert create(stores).found is None  # no email, no phone, no company


def test_a_put_looks_only_when_a_match_key_changes_and_rejects_only_by_what_changed():
    stores = FakeStores.new()
    create(stores, first_name="Bo", phone="+1 555 010 2030")
    create(stores, first_name="Cy", email="cy@x.io", phone="+1 555 010 2030", company="Acme")
    unchanged = {"first_name": "Cy", "email": "cy@x.io", "phone": "+1 555 010 2030", "company": "Acme"}
    assert named(update(stores, 2, **unchanged, job_title="CTO")) is None  # nothing looked for
    # a new name (and so a new name and company key): the phone duplicate was there already
    check = update(stores, 2, "reject", first_name="Cyd", email="cy@x.io")
    assert named(check) == [(1, "lead", ["phone"], 30)]
    assert stores.table.leads[("acme", 2)].first_name == "Cyd"
    with pytest.raises(DuplicatesFound) as refused:
        update(stores, 1, "reject", first_name="Bo", email="CY@x.io")
    assert refused.value.duplicates == [{"id": 2, "type": "lead", "reasons": ["email", "phone"], "score": 90}]
    assert stores.table.leads[("acme", 1)].email is None


def test_a_restore_names_the_live_leads_it_duplicates_and_reject_keeps_it_in_the_trash():
    stores = FakeStores.new()
    create(stores, email="ann@x.io")
    delete_lead(ALICE, 1, stores.leads, stores.trash)
    create(stores, first_name="New", email="ann@x.io")
    with pytest.raises(DuplicatesFound) as refused:
        restore_lead(
            ALICE, 1, stores.trash, stores.directory, stores.mail, DuplicateCheck(stores.leads, "reject")
        )
    assert [d["id"] for d in refused.value.duplicates] == [2]
    assert stores.trash.trashed("acme", 1) is not None and stores.leads.get("acme", 1) is None
    check = DuplicateCheck(stores.leads)
    restore_lead(ALICE, 1, stores.trash, stores.directory, stores.mail, check)
    assert named(check) == [(2, "lead", ["email"], 60)]


def test_contacts_count_but_not_the_leads_own_contact():
    stores = FakeStores.new()
    create(stores, email="ann@x.io")
    for contact_id, lead_of in ((7, 1), (8, None)):
        stores.table.contacts[("acme", contact_id)] = Contact(
            tenant_id="acme", id=contact_id, first_name="Ann", last_name="Lee", email="ann@x.io",
            lead_id=lead_of, created_at="t", updated_at="t",
        )  # fmt: skip
    stores.table.leads[("acme", 1)].contact_id = 7
    check = update(stores, 1, email="ANN@x.io", phone="+1 555 010 0000")
    assert named(check) == [(8, "contact", ["email"], 60)]


def index_behind(stores: FakeStores, monkeypatch: pytest.MonkeyPatch) -> None:
    """The indexes do not show the leads written a moment ago (none, here)."""
    monkeypatch.setattr(stores.leads, "match_ids", lambda *_, **__: [])


def test_racing_rejecting_creates_one_wins_by_its_hold_on_the_key(monkeypatch):
    stores = FakeStores.new()
    index_behind(stores, monkeypatch)
    create(stores, "reject", email="ann@x.io", phone="+1 555 010 2030")
    with pytest.raises(DuplicatesFound) as refused:
        create(stores, "reject", first_name="Bo", email="ANN@x.io", phone="15550102030")
    assert refused.value.duplicates == [{"id": 1, "type": "lead", "reasons": ["email", "phone"], "score": 90}]
    assert len(stores.table.leads) == 1


def test_a_hold_whose_lead_is_gone_or_changed_is_taken_over(monkeypatch):
    stores = FakeStores.new()
    index_behind(stores, monkeypatch)
    create(stores, "reject", email="ann@x.io")
    delete_lead(ALICE, 1, stores.leads, stores.trash)
    create(stores, "reject", first_name="Bo", email="ann@x.io")  # lead 1 is in the trash
    update(stores, 2, email="bo@x.io")
    create(stores, "reject", first_name="Cy", email="ann@x.io")  # lead 2 no longer has it
    assert stores.table.claims[("acme", "email", "ann@x.io")][0] == 3
    assert sorted(stores.table.leads) == [("acme", 2), ("acme", 3)]


def test_creates_that_allow_duplicates_hold_nothing():
    stores = FakeStores.new()
    create(stores, email="ann@x.io", phone="+1 555 010 2030")
    assert stores.table.claims == {}
    create(stores, "reject", first_name="Bo", email="bo@x.io")
    assert list(stores.table.claims) == [("acme", "email", "bo@x.io")]
