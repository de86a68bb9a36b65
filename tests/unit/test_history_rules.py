"""What a lead's write records in its history (``lead_history``), and how the history and the
timeline are paged (``lead_timeline``), on the in-memory stores."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from leads_shared.auth import Principal
from leads_shared.errors import NotFound, ValidationFailed
from leads_shared.lead_history import HISTORY_FIELDS, change, diff, expiry
from leads_shared.lead_timeline import field_history, parse_kinds, timeline
from leads_shared.leads import create_lead, update_lead
from leads_shared.models.directory import User
from leads_shared.models.history import Actor
from leads_shared.models.leads import LeadCreate, LeadUpdate
from leads_shared.recycle_bin import delete_lead, restore_lead
from tests.support.fake_store import FakeStores

ALICE = Principal(user_id=1, tenant_id="acme", role="admin", name="Alice")
SETTINGS = SimpleNamespace(list_cursor_secret="s3cret", jwt_secret=None, list_cursor_seconds=3600)


@pytest.fixture
def stores() -> FakeStores:
    stores = FakeStores.new()
    stores.directory.insert_user(User(tenant_id="acme", id=1, name="Alice", role="admin"))
    stores.directory.insert_user(User(tenant_id="acme", id=2, name="Bob"))
    return stores


def put(stores: FakeStores, **fields):
    data = LeadUpdate(**{"first_name": "Ann", "last_name": "Lee", **fields})
    return update_lead(ALICE, 1, data, stores.leads, stores.mail)


def test_the_diff_leaves_bookkeeping_out_and_names_the_action(stores):
    before = create_lead(ALICE, LeadCreate(first_name="Ann", last_name="Lee"), stores.leads, stores.mail)
    after = put(stores, assigned_to=2, company="Acme")

    entry = change(before, after, Actor(type="user", id=1, name="Alice"))

    assert [(c.field, c.old, c.new) for c in entry.changes] == [
        ("company", None, "Acme"),
        ("assigned_to", None, 2),
        ("assigned_to_name", None, "Bob"),
    ]
    assert entry.action == "assigned" and entry.version == 2 and entry.at == after.updated_at
    assert entry.expires_at == expiry(after.updated_at)
    assert not {"version", "updated_at", "created_at", "tenant_id", "id", "last_import"} & set(HISTORY_FIELDS)
    assert diff(after, after) == []


def test_every_write_of_the_rules_records_one_entry_by_its_caller(stores):
    create_lead(ALICE, LeadCreate(first_name="Ann", last_name="Lee"), stores.leads, stores.mail)
    put(stores, status="contacted")
    put(stores, status="contacted")  # changes nothing: records nothing
    delete_lead(ALICE, 1, stores.leads, stores.trash)
    restore_lead(ALICE, 1, stores.trash, stores.directory, stores.mail)

    _, entries = stores.leads.history("acme", 1)

    assert [e.action for e in entries] == ["created", "status_changed", "deleted", "restored"]
    assert all(e.actor == Actor(type="user", id=1, name="Alice") for e in entries)


def test_pages_of_the_history_and_the_timeline(stores):
    create_lead(ALICE, LeadCreate(first_name="Ann", last_name="Lee"), stores.leads, stores.mail)
    for n in range(4):
        put(stores, company=f"Company {n}", status="contacted" if n % 2 else "new")

    seen, cursor = [], None
    while True:
        page = field_history(ALICE, 1, None, 2, cursor, stores.leads, SETTINGS)  # type: ignore[arg-type]
        seen += [entry.etag for entry in page.data]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == ['"5"', '"4"', '"3"', '"2"', '"1"']

    statuses = field_history(ALICE, 1, "status", 10, None, stores.leads, SETTINGS)  # type: ignore[arg-type]
    assert [entry.etag for entry in statuses.data] == ['"5"', '"4"', '"3"', '"1"']
    with pytest.raises(ValidationFailed):
        field_history(ALICE, 1, "colour", 10, None, stores.leads, SETTINGS)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        timeline(ALICE, 2, parse_kinds(None), 10, None, stores.leads, SETTINGS)  # type: ignore[arg-type]
    notes_only = timeline(ALICE, 1, parse_kinds("note"), 10, None, stores.leads, SETTINGS)  # type: ignore[arg-type]
    assert notes_only.data == []


def test_kinds_are_checked():
    assert parse_kinds(" task , note ") == ("note", "task")
    assert parse_kinds("") == ("change", "note", "task", "email", "form")
    with pytest.raises(ValidationFailed) as refused:
        parse_kinds("note,calls")
    assert refused.value.errors == {
        "kind": ["The selected kind is invalid. Allowed values: change, note, task, email, form."]
    }
