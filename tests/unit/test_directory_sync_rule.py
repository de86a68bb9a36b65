"""The rename rule on its own: which stream records are renames, which name is written, and when
it stops (stores are small fakes; tests/integration/test_directory_sync.py runs it on the emulator)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from leads_shared.directory_sync import (
    STOP_BEFORE_TIMEOUT_MS,
    OutOfTime,
    RenamedUser,
    renamed_users,
    show_new_names,
)
from leads_shared.models.directory import User

PLENTY_MS = 10 * 60 * 1000


def image(tenant_id: str = "acme", user_id: int = 2, name: str = "Bob Baker", **extra: Any) -> dict[str, Any]:
    """A user item as the stream carries it (typed attribute values)."""
    values = {"tenant_id": tenant_id, "id": user_id, "name": name, "entity": "user", **extra}
    typed = {k: {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in values.items()}
    keys = {"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": f"USER#{user_id:09d}"}}
    return {**keys, **typed}


def record(event_name: str = "MODIFY", old: dict | None = None, new: dict | None = None) -> dict[str, Any]:
    change: dict[str, Any] = {"Keys": {}, "SequenceNumber": "1", "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if old is not None:
        change["OldImage"] = old
    if new is not None:
        change["NewImage"] = new
    return {"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": change}


def records(*items: dict[str, Any]) -> Any:
    return DynamoDBStreamEvent({"Records": list(items)}).records


class FakeLeads:
    """Leads of one tenant by id: (assignee, shown name)."""

    def __init__(self, leads: dict[int, tuple[int | None, str | None]]) -> None:
        self.leads = dict(leads)
        self.writes: list[int] = []
        self.before_write: Any = None  # called with the lead id before each write

    def assigned_not_showing(self, tenant_id: str, user_id: int, name: str) -> Iterator[list[int]]:
        ids = sorted(i for i, (user, shown) in self.leads.items() if user == user_id and shown != name)
        for start in range(0, len(ids), 2):  # pages of two
            yield ids[start : start + 2]

    def show_assignee_name(self, tenant_id: str, lead_id: int, user_id: int, name: str) -> bool:
        if self.before_write:
            self.before_write(lead_id)
        user, shown = self.leads[lead_id]
        if user != user_id or shown == name:
            return False
        self.leads[lead_id] = (user, name)
        self.writes.append(lead_id)
        return True


class FakeUsers:
    def __init__(self, *users: User) -> None:
        self.users = {(user.tenant_id, user.id): user for user in users}
        self.reads = 0

    def user(self, tenant_id: str, user_id: int) -> User | None:
        self.reads += 1
        return self.users.get((tenant_id, user_id))


def user(name: str, tenant_id: str = "acme", user_id: int = 2) -> User:
    return User(tenant_id=tenant_id, id=user_id, name=name, email=f"u{user_id}@{tenant_id}.com")


def test_a_rename_is_a_modify_of_a_user_item_whose_name_changed() -> None:
    renamed = record(old=image(name="Bob Baker"), new=image(name="Robert Baker"))
    assert renamed_users(records(renamed)) == [RenamedUser("acme", 2)]

    not_renames = [
        record(old=image(), new=image(role="admin")),  # another attribute of the user changed
        record("INSERT", new=image(name="New Person")),  # a new user has no leads
        record("REMOVE", old=image()),  # the leads keep the name they show
        record(old=image(entity="team"), new=image(entity="team", name="x")),  # not a user
    ]
    assert renamed_users(records(*not_renames)) == []


def test_each_renamed_user_is_synced_once_per_batch_in_stream_order() -> None:
    batch = records(
        record(old=image(user_id=3, name="C"), new=image(user_id=3, name="C2")),
        record(old=image(name="B"), new=image(name="B2")),
        record(old=image(user_id=3, name="C2"), new=image(user_id=3, name="C3")),
        record(old=image(tenant_id="globex", name="B"), new=image(tenant_id="globex", name="B2")),
    )
    assert renamed_users(batch) == [RenamedUser("acme", 3), RenamedUser("acme", 2), RenamedUser("globex", 2)]


def test_the_users_current_name_is_written_not_the_records() -> None:
    """A late or replayed record of an older rename must not bring its name back."""
    leads = FakeLeads({1: (2, "Bob Baker"), 2: (2, "Bob Baker"), 3: (3, "Carol Chen"), 4: (None, None)})
    users = FakeUsers(user("Rob Baker"))
    stale = record(old=image(name="Bob Baker"), new=image(name="Robert Baker"))

    report = show_new_names(records(stale), leads, users, lambda: PLENTY_MS)

    assert leads.leads == {1: (2, "Rob Baker"), 2: (2, "Rob Baker"), 3: (3, "Carol Chen"), 4: (None, None)}
    assert (report.users, report.leads_renamed, report.leads_skipped) == (1, 2, 0)


def test_a_second_delivery_writes_nothing() -> None:
    leads = FakeLeads({1: (2, "Bob Baker"), 2: (2, "Bob Baker")})
    users = FakeUsers(user("Rob Baker"))
    batch = [record(old=image(name="Bob Baker"), new=image(name="Rob Baker"))]
    show_new_names(records(*batch), leads, users, lambda: PLENTY_MS)
    leads.writes.clear()

    report = show_new_names(records(*batch), leads, users, lambda: PLENTY_MS)

    assert leads.writes == [] and report.leads_renamed == 0


def test_a_lead_reassigned_before_its_write_is_skipped() -> None:
    leads = FakeLeads({1: (2, "Bob Baker"), 2: (2, "Bob Baker")})

    def reassign(lead_id: int) -> None:
        if lead_id == 2:
            leads.leads[2] = (3, "Carol Chen")

    leads.before_write = reassign
    batch = records(record(old=image(name="Bob Baker"), new=image(name="Rob Baker")))

    report = show_new_names(batch, leads, FakeUsers(user("Rob Baker")), lambda: PLENTY_MS)

    assert leads.leads == {1: (2, "Rob Baker"), 2: (3, "Carol Chen")}
    assert (report.leads_renamed, report.leads_skipped) == (1, 1)


def test_a_user_that_no_longer_exists_is_skipped() -> None:
    leads = FakeLeads({1: (2, "Bob Baker")})
    batch = records(record(old=image(name="Bob Baker"), new=image(name="Rob Baker")))

    report = show_new_names(batch, leads, FakeUsers(), lambda: PLENTY_MS)

    assert leads.leads == {1: (2, "Bob Baker")} and report.users == 0


def test_close_to_the_timeout_it_stops_and_the_next_delivery_finishes() -> None:
    leads = FakeLeads({i: (2, "Bob Baker") for i in range(1, 8)})
    users = FakeUsers(user("Rob Baker"))
    batch = [record(old=image(name="Bob Baker"), new=image(name="Rob Baker"))]
    clock = iter([PLENTY_MS] * 3 + [STOP_BEFORE_TIMEOUT_MS - 1] * 10)

    with pytest.raises(OutOfTime):
        show_new_names(records(*batch), leads, users, lambda: next(clock))
    assert leads.writes == [1, 2, 3]

    report = show_new_names(records(*batch), leads, users, lambda: PLENTY_MS)

    assert leads.writes == [1, 2, 3, 4, 5, 6, 7]  # each lead written once over both deliveries
    assert report.leads_renamed == 4
