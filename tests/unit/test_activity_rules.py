"""Notes and tasks of a lead over in-memory stores: who may delete a note, what a task may refer
to, and task updates that lose no concurrent change (tests/integration: the same on the emulator)."""

from __future__ import annotations

import pytest

from leads_shared.auth import Principal
from leads_shared.errors import Forbidden, NotFound, ValidationFailed
from leads_shared.leads import create_lead
from leads_shared.models.activities import NoteCreate, TaskCreate, TaskUpdate
from leads_shared.models.directory import User
from leads_shared.models.leads import LeadCreate
from leads_shared.notes import add_note, delete_note, list_notes
from leads_shared.tasks import add_task, delete_task, list_tasks, update_task
from tests.support.fake_store import FakeStores

ADMIN = Principal(user_id=1, tenant_id="acme", role="admin", name="Alice")
BOB = Principal(user_id=2, tenant_id="acme")  # a token without a name
CAROL = Principal(user_id=3, tenant_id="acme", name="Carol")


@pytest.fixture
def stores() -> FakeStores:
    stores = FakeStores.new()
    stores.directory.insert_user(User(tenant_id="acme", id=1, name="Alice", role="admin"))
    stores.directory.insert_user(User(tenant_id="acme", id=2, name="Bob Baker"))
    stores.directory.insert_user(User(tenant_id="acme", id=3, name="Carol"))
    stores.directory.insert_user(User(tenant_id="acme", id=4, name="Dan", active=False))
    create_lead(ADMIN, LeadCreate(first_name="Ann", last_name="Lee"), stores.leads, stores.mail)
    return stores


def note(stores: FakeStores, who: Principal, content: str = "hello", lead_id: int = 1):
    return add_note(
        who, lead_id, NoteCreate(content=content), stores.activities, stores.records, stores.directory
    )


def task(stores: FakeStores, **fields):
    data = TaskCreate(**{"title": "Call", **fields})
    return add_task(ADMIN, 1, data, stores.activities, stores.records)


def change(stores: FakeStores, task_id: int = 1, **fields):
    return update_task(ADMIN, 1, task_id, TaskUpdate(**{"title": "Call", **fields}), stores.activities)


# ------------------------------------------------------------------ notes
def test_notes_list_newest_first_with_their_authors_names(stores):
    note(stores, ADMIN, "first")
    note(stores, BOB, "second")  # the name comes from the directory
    notes = list_notes(ADMIN, 1, stores.leads)
    assert [(n.content, n.user_name) for n in notes] == [("second", "Bob Baker"), ("first", "Alice")]


def test_a_note_needs_its_lead(stores):
    with pytest.raises(NotFound, match="Lead"):
        note(stores, ADMIN, lead_id=2)
    with pytest.raises(NotFound, match="Lead"):
        list_notes(ADMIN, 2, stores.leads)
    assert stores.table.notes == {}


def test_only_the_author_or_an_admin_deletes_a_note(stores):
    bobs = note(stores, BOB)
    with pytest.raises(Forbidden):
        delete_note(CAROL, 1, bobs.id, stores.activities)
    assert len(list_notes(ADMIN, 1, stores.leads)) == 1
    delete_note(BOB, 1, bobs.id, stores.activities)
    carols = note(stores, CAROL)
    delete_note(ADMIN, 1, carols.id, stores.activities)
    assert list_notes(ADMIN, 1, stores.leads) == []
    with pytest.raises(NotFound, match="Note"):
        delete_note(ADMIN, 1, carols.id, stores.activities)


# ------------------------------------------------------------------ tasks
def test_a_task_refers_only_to_what_exists_in_the_tenant(stores):
    with pytest.raises(ValidationFailed) as refused:
        task(stores, assigned_to=4, contact_id=7, deal_id=8)
    assert refused.value.errors == {
        "assigned_to": ["The selected assigned to is invalid."],
        "contact_id": ["The selected contact id is invalid."],
        "deal_id": ["The selected deal id is invalid."],
    }
    assert stores.table.tasks == {}
    assert task(stores, assigned_to=2).assigned_to_name == "Bob Baker"


def test_a_task_needs_its_lead(stores):
    with pytest.raises(NotFound, match="Lead"):
        add_task(ADMIN, 2, TaskCreate(title="x"), stores.activities, stores.records)
    with pytest.raises(NotFound, match="Lead"):
        list_tasks(ADMIN, 2, stores.activities)


def test_tasks_list_by_due_date_undated_last(stores):
    task(stores, title="undated")
    task(stores, title="later", due_date="2026-03-01")
    task(stores, title="sooner", due_date="2026-02-01", due_time="15:00")
    task(stores, title="sooner untimed", due_date="2026-02-01")
    titles = [t.title for t in list_tasks(ADMIN, 1, stores.activities)]
    assert titles == ["sooner untimed", "sooner", "later", "undated"]


def test_completing_stamps_the_time_and_reopening_clears_it(stores):
    task(stores)
    done = change(stores, completed=True)
    assert (done.completed, done.version) == (True, 2) and done.completed_at is not None
    again = change(stores, completed=False)
    assert (again.completed_at, again.version) == (None, 3)


def test_a_task_update_that_changes_nothing_writes_nothing(stores):
    task(stores, priority="high")
    assert change(stores, priority="high").version == 1


def test_a_concurrent_task_change_is_kept(stores):
    task(stores)

    def someone_else_first(write: str) -> None:
        stores.table.before_write = None
        current = stores.table.tasks[("acme", 1, 1)]
        stores.activities.replace_task(
            current, current.model_copy(update={"description": "theirs", "version": 2})
        )

    stores.table.before_write = someone_else_first
    updated = change(stores, priority="high")
    assert (updated.description, updated.priority, updated.version) == ("theirs", "high", 3)


def test_unassigning_a_task_clears_the_name(stores):
    task(stores, assigned_to=2)
    assert change(stores, assigned_to=None).assigned_to_name is None


def test_deleting_a_task(stores):
    task(stores)
    delete_task(ADMIN, 1, 1, stores.activities)
    assert list_tasks(ADMIN, 1, stores.activities) == []
    with pytest.raises(NotFound, match="Task"):
        delete_task(ADMIN, 1, 1, stores.activities)
    with pytest.raises(NotFound, match="Task"):
        change(stores)
