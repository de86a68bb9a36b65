"""The lead rules over in-memory stores (tests/support/fake_store.py): ids, counts, If-Match,
concurrent writers and lost answers. The same rules on the emulator: tests/integration."""

from __future__ import annotations

import pytest

from leads_shared.auth import Principal
from leads_shared.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from leads_shared.lead_history import change
from leads_shared.leads import create_lead, get_lead, update_lead
from leads_shared.models.activities import NoteCreate
from leads_shared.models.directory import User
from leads_shared.models.history import Actor
from leads_shared.models.leads import LeadCreate, LeadUpdate
from leads_shared.notes import add_note
from leads_shared.recycle_bin import delete_lead, restore_lead
from tests.support.fake_store import FakeStores

ALICE = Principal(user_id=1, tenant_id="acme", role="admin", name="Alice")
BOB = Principal(user_id=2, tenant_id="acme", role="user", name="Bob")


@pytest.fixture
def stores() -> FakeStores:
    stores = FakeStores.new()
    stores.directory.insert_user(User(tenant_id="acme", id=1, name="Alice", role="admin"))
    stores.directory.insert_user(User(tenant_id="acme", id=2, name="Bob"))
    stores.directory.insert_user(User(tenant_id="acme", id=3, name="Carol", active=False))
    return stores


def create(stores: FakeStores, **fields):
    data = LeadCreate(**{"first_name": "Ann", "last_name": "Lee", **fields})
    return create_lead(ALICE, data, stores.leads, stores.mail)


def update(stores: FakeStores, lead_id: int = 1, if_match: str | None = None, **fields):
    data = LeadUpdate(**{"first_name": "Ann", "last_name": "Lee", **fields})
    return update_lead(ALICE, lead_id, data, stores.leads, stores.mail, if_match=if_match)


def test_creates_take_consecutive_ids_and_keep_the_counts(stores):
    ids = [create(stores, assigned_to=2).id, create(stores).id, create(stores, status="contacted").id]
    assert ids == [1, 2, 3]
    stats = stores.leads.stats("acme")
    assert (stats.total, stats.count("status_new"), stats.count("status_contacted")) == (3, 2, 1)
    assert stats.count("user_2") == 1
    assert stores.leads.get("acme", 1).assigned_to_name == "Bob"
    assert stores.leads.get("acme", 1).version == 1


@pytest.mark.parametrize("user_id", [3, 99])
def test_a_lead_is_not_assigned_to_a_deactivated_or_unknown_user(stores, user_id):
    with pytest.raises(ValidationFailed) as refused:
        create(stores, assigned_to=user_id)
    assert refused.value.errors == {"assigned_to": ["The selected assigned to is invalid."]}
    assert stores.table.leads == {} and stores.leads.stats("acme").total == 0


def test_a_create_that_loses_the_id_race_takes_the_next_free_id(stores):
    create(stores, first_name="First")

    def another_create_first(write: str) -> None:
        if write == "insert" and stores.table.writes == ["insert"]:
            stores.table.before_write = None
            create(stores, first_name="Other")  # reads the same sequence, commits first

    stores.table.before_write = another_create_first
    mine = create(stores, first_name="Mine")
    names = {lead_id: lead.first_name for (_, lead_id), lead in stores.table.leads.items()}
    assert names == {1: "First", 2: "Other", 3: "Mine"} and mine.id == 3
    assert stores.leads.stats("acme").total == 3


def test_a_new_lead_gets_the_emails_captured_for_its_address(stores):
    summary = {"id": 7, "source": "captured", "subject": "Hi", "from_address": "ann@x.io"}
    summary |= {"to": [], "cc": [], "sent_at": "2026-01-01T00:00:00Z", "snippet": ""}
    stores.table.captured[("acme", "ann@x.io")] = [summary]
    lead = create(stores, email="Ann@X.io")
    link = stores.table.links[("acme", lead.id, 7)]
    assert link.direction == "inbound"  # the lead sent it


def test_update_with_the_current_etag_writes_the_next_version(stores):
    lead = create(stores)
    updated = update(stores, if_match=lead.etag, company="Acme")
    assert (updated.version, updated.etag, updated.company) == (2, '"2"', "Acme")
    assert stores.leads.get("acme", 1) == updated
    assert updated.updated_at >= lead.updated_at


def test_update_with_a_stale_etag_is_412_and_writes_nothing(stores):
    create(stores)
    update(stores, company="First")
    with pytest.raises(PreconditionFailed):
        update(stores, if_match='"1"', company="Second")
    assert stores.leads.get("acme", 1).company == "First"


def test_a_concurrent_change_between_read_and_write_is_kept(stores):
    create(stores)

    def someone_else_writes_first(write: str) -> None:
        stores.table.before_write = None
        current = stores.leads.get("acme", 1)
        theirs = current.model_copy(update={"phone": "+1 555", "version": 2})
        stores.leads.replace(current, theirs, change(current, theirs, Actor(type="user", id=2)))

    stores.table.before_write = someone_else_writes_first
    updated = update(stores, company="Acme")
    assert (updated.phone, updated.company, updated.version) == ("+1 555", "Acme", 3)


def test_with_if_match_a_concurrent_change_is_412(stores):
    lead = create(stores)

    def someone_else_writes_first(write: str) -> None:
        stores.table.before_write = None
        current = stores.leads.get("acme", 1)
        theirs = current.model_copy(update={"phone": "+1 555", "version": 2})
        stores.leads.replace(current, theirs, change(current, theirs, Actor(type="user", id=2)))

    stores.table.before_write = someone_else_writes_first
    with pytest.raises(PreconditionFailed):
        update(stores, if_match=lead.etag, company="Acme")
    assert stores.leads.get("acme", 1).company is None


def test_our_own_write_whose_answer_was_lost_is_a_success_not_a_412(stores):
    lead = create(stores)
    stores.table.lost_answers = 1
    updated = update(stores, if_match=lead.etag, company="Acme")
    assert updated.version == 2 and stores.leads.get("acme", 1) == updated


def test_a_lead_changed_by_others_on_every_attempt_is_a_409(stores):
    create(stores)

    def always_first(write: str) -> None:
        current = stores.leads.get("acme", 1)
        stores.table.leads[("acme", 1)] = current.model_copy(update={"version": current.version + 1})

    stores.table.before_write = always_first
    with pytest.raises(Conflict, match="being changed by others"):
        update(stores, company="Acme")
    assert stores.leads.get("acme", 1).company is None


def test_an_update_that_changes_nothing_writes_nothing(stores):
    create(stores, company="Acme")
    stores.table.writes.clear()
    assert update(stores, company="Acme").version == 1
    assert stores.table.writes == []


def test_status_and_assignee_changes_move_the_counts(stores):
    create(stores, assigned_to=2)
    update(stores, status="contacted", assigned_to=1)
    stats = stores.leads.stats("acme")
    assert (stats.count("status_new"), stats.count("status_contacted")) == (0, 1)
    assert (stats.count("user_2"), stats.count("user_1"), stats.total) == (0, 1, 1)
    assert stores.leads.get("acme", 1).assigned_to_name == "Alice"


def test_a_deactivated_owner_may_stay_but_not_be_newly_assigned(stores):
    create(stores, assigned_to=2)
    bob = stores.directory.user("acme", 2)
    stores.directory.replace_user(bob, bob.model_copy(update={"active": False, "version": 2}))
    assert update(stores, assigned_to=2, company="Acme").company == "Acme"
    create(stores)
    with pytest.raises(ValidationFailed):
        update(stores, lead_id=2, assigned_to=2)


def test_disqualifying_by_put_stamps_the_time_and_reopening_clears_it(stores):
    create(stores)
    closed = update(stores, status="disqualified")
    assert closed.disqualified_at is not None
    reopened = update(stores, status="new")
    assert reopened.disqualified_at is None and reopened.disqualified_reason is None


def counts(stores: FakeStores) -> tuple[int, int, int]:
    stats = stores.leads.stats("acme")
    return stats.total, stats.count("status_new"), stats.count("user_2")


def test_delete_trashes_the_lead_keeps_its_notes_takes_its_counts_and_honours_if_match(stores):
    lead = create(stores, assigned_to=2)
    add_note(ALICE, 1, NoteCreate(content="hello"), stores.activities, stores.records, stores.directory)
    update(stores, assigned_to=2, company="Acme")
    with pytest.raises(PreconditionFailed):
        delete_lead(ALICE, 1, stores.leads, stores.trash, if_match=lead.etag)
    delete_lead(BOB, 1, stores.leads, stores.trash, if_match='"2"')
    assert stores.table.leads == {} and len(stores.table.notes) == 1
    assert stores.table.trash[("acme", 1)].deleted_by == 2
    assert counts(stores) == (0, 0, 0)
    with pytest.raises(NotFound):
        get_lead(ALICE, 1, stores.leads)
    with pytest.raises(NotFound):
        delete_lead(ALICE, 1, stores.leads, stores.trash)  # in the trash already


def test_restore_brings_back_the_lead_its_notes_and_counts_for_its_deleter_or_an_admin(stores):
    create(stores, assigned_to=2)
    add_note(ALICE, 1, NoteCreate(content="hello"), stores.activities, stores.records, stores.directory)
    delete_lead(ALICE, 1, stores.leads, stores.trash)
    with pytest.raises(NotFound):
        restore_lead(BOB, 1, stores.trash, stores.directory, stores.mail)  # not his deletion
    restored = restore_lead(ALICE, 1, stores.trash, stores.directory, stores.mail)
    assert restored.version == 2 and counts(stores) == (1, 1, 1)
    lead, notes = get_lead(ALICE, 1, stores.leads)
    assert lead == restored and [note.content for note in notes] == ["hello"]
    with pytest.raises(NotFound):
        restore_lead(ALICE, 1, stores.trash, stores.directory, stores.mail)  # live: not in the trash
    delete_lead(BOB, 1, stores.leads, stores.trash)
    assert restore_lead(BOB, 1, stores.trash, stores.directory, stores.mail).version == 3


def test_only_an_admin_removes_for_good_a_live_or_a_trashed_lead(stores):
    create(stores)
    create(stores)
    add_note(ALICE, 2, NoteCreate(content="hello"), stores.activities, stores.records, stores.directory)
    with pytest.raises(Forbidden):
        delete_lead(BOB, 1, stores.leads, stores.trash, permanent=True)
    delete_lead(ALICE, 1, stores.leads, stores.trash, permanent=True)
    delete_lead(BOB, 2, stores.leads, stores.trash)
    delete_lead(ALICE, 2, stores.leads, stores.trash, permanent=True)
    assert (stores.table.leads, stores.table.trash, stores.table.notes) == ({}, {}, {})
    assert stores.leads.stats("acme").total == 0
    with pytest.raises(NotFound):
        restore_lead(ALICE, 2, stores.trash, stores.directory, stores.mail)


def test_another_tenant_finds_nothing(stores):
    create(stores)
    other = Principal(user_id=1, tenant_id="globex")
    with pytest.raises(NotFound):
        get_lead(other, 1, stores.leads)
    with pytest.raises(NotFound):
        update_lead(other, 1, LeadUpdate(first_name="X", last_name="Y"), stores.leads, stores.mail)
