"""Renaming a user shows on their leads: the user item is written as any renamer writes it
(`DirectoryStore.put_user`), the table's real stream records are read from the emulator, filtered
by the template's FilterCriteria as Lambda filters them, and given to the function's handler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from devstack.emulator import Emulator
from devstack.event_filter import passes
from devstack.runtime import LambdaFunction
from devstack.stream_poller import StreamReader
from devstack.template import StreamEventSource
from leads_shared import directory_sync
from leads_shared.data import get_directory_store, get_lead_store
from leads_shared.data.dynamo import meter
from leads_shared.data.lead_store import LeadStore
from tests.support.clients import Caller, Tenant, lead_body

FUNCTION = "DirectorySyncFunction"


@dataclass
class Stream:
    """The table's stream from where the test started, delivered to the function as Lambda would."""

    reader: StreamReader
    source: StreamEventSource
    function: LambdaFunction
    last_cost: dict[str, Any] = field(default_factory=dict)

    def deliver(self) -> dict[str, Any]:
        """Invoke the function with the records written since the last delivery that pass its
        FilterCriteria (as one batch); the event is returned, to deliver it again."""
        records = [record for record in self.reader.read() if passes(self.source.filter_patterns, record)]
        event = {"Records": records}
        self.invoke(event)
        return event

    def invoke(self, event: dict[str, Any]) -> None:
        meter.reset()
        assert self.function.invoke(event) is None
        self.last_cost = meter.snapshot()


@pytest.fixture
def stream(emulator: Emulator) -> Stream:
    (source,) = [source for source in emulator.template.stream_sources() if source.function_id == FUNCTION]
    reader = StreamReader(emulator, source.table_id)  # LATEST: from here on
    return Stream(reader, source, LambdaFunction(emulator.template.function(FUNCTION)))


def create(caller: Caller, first_name: str, assigned_to: int | None) -> int:
    body = lead_body(first_name=first_name, last_name="Lead", email=None, assigned_to=assigned_to)
    response = caller.post("/leads", body)
    assert response.status_code == 201, response.text
    return int(response.json["id"])


def rename(tenant: Tenant, user_id: int, name: str) -> None:
    """What the admin API or SCIM does to a user, as far as the stream can tell."""
    store = get_directory_store()
    user = store.user(tenant.tenant_id, user_id)
    assert user is not None
    store.put_user(user.model_copy(update={"name": name}))


def shown(caller: Caller, lead_id: int) -> tuple[int | None, str | None, str, str]:
    """(assigned_to, assigned_to_name, ETag, updated_at) of the lead, as GET /leads/{id} answers."""
    response = caller.get(f"/leads/{lead_id}")
    assert response.status_code == 200, response.text
    lead = response.json
    return lead["assigned_to"], lead["assigned_to_name"], response.headers["ETag"], lead["updated_at"]


def by_assignee_name(caller: Caller) -> list[int]:
    response = caller.get("/leads", query={"sort_by": "assigned_to_name", "per_page": 100})
    assert response.status_code == 200, response.text
    return [lead["id"] for lead in response.json["data"]]


def next_version(etag: str) -> str:
    return f'"{int(etag.strip(chr(34))) + 1}"'


def test_a_renamed_users_name_shows_on_each_of_their_leads_and_nowhere_else(
    tenant: Tenant, other_tenant: Tenant, stream: Stream
) -> None:
    alice, globex_admin = tenant.as_user(1), other_tenant.as_user(1)
    unassigned = create(alice, "Una", None)
    bobs = [create(alice, f"Bob{i}", 2) for i in range(3)]
    carols = [create(alice, f"Carol{i}", 3) for i in range(2)]
    elsewhere = create(globex_admin, "Other", 2)  # user 2 of another tenant: also "Bob Baker"
    assert by_assignee_name(alice) == [unassigned, *bobs, *carols]  # none first, Bob Baker < Carol Chen
    before = {lead_id: shown(alice, lead_id) for lead_id in [unassigned, *bobs, *carols]}
    elsewhere_before = shown(globex_admin, elsewhere)

    rename(tenant, 2, "Zoe Baker")
    event = stream.deliver()

    assert len(event["Records"]) == 1  # the leads' INSERTs did not pass the filter
    for lead_id in bobs:
        assigned_to, name, etag, updated_at = shown(alice, lead_id)
        assert (assigned_to, name) == (2, "Zoe Baker")
        assert etag == next_version(before[lead_id][2])  # the representation changed
        assert updated_at == before[lead_id][3]  # no one changed the lead
    for lead_id in [unassigned, *carols]:
        assert shown(alice, lead_id) == before[lead_id]
    assert shown(globex_admin, elsewhere) == elsewhere_before
    assert by_assignee_name(alice) == [unassigned, *carols, *bobs]  # Carol Chen < Zoe Baker


def test_a_redelivered_batch_changes_nothing(tenant: Tenant, stream: Stream) -> None:
    alice = tenant.as_user(1)
    bobs = [create(alice, f"Bob{i}", 2) for i in range(3)]
    rename(tenant, 2, "Robert Baker")
    event = stream.deliver()
    assert stream.last_cost["by_operation"].get("TransactWriteItems") == 3
    after = [shown(alice, lead_id) for lead_id in bobs]

    stream.invoke(event)

    assert "TransactWriteItems" not in stream.last_cost["by_operation"]  # the Query filters them all out
    assert [shown(alice, lead_id) for lead_id in bobs] == after


def test_a_user_change_that_keeps_the_name_writes_nothing(tenant: Tenant, stream: Stream) -> None:
    alice = tenant.as_user(1)
    create(alice, "Bob", 2)
    store = get_directory_store()
    bob = store.user(tenant.tenant_id, 2)
    assert bob is not None
    store.put_user(bob.model_copy(update={"role": "admin", "team_id": 2}))

    event = stream.deliver()

    assert len(event["Records"]) == 1  # a MODIFY of a user item: Lambda invokes the function
    assert stream.last_cost["requests"] == 0  # which sees that the name did not change


def test_a_lead_reassigned_or_edited_during_the_sync_keeps_that_change(
    tenant: Tenant, stream: Stream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync read the user's leads (GSI3), then, before its write of each: one lead is
    reassigned to Carol, another gets a new phone. The first keeps Carol; the second keeps its
    phone and shows the new name."""
    alice = tenant.as_user(1)
    reassigned, edited, plain = (create(alice, name, 2) for name in ("Ray", "Eddie", "Pat"))
    changed_during_sync = {
        reassigned: {"first_name": "Ray", "last_name": "Lead", "assigned_to": 3},
        edited: {"first_name": "Eddie", "last_name": "Lead", "phone": "+1 555 0100"},
    }
    write = LeadStore.show_assignee_name

    def changed_first(store: LeadStore, tenant_id: str, lead_id: int, user_id: int, name: str) -> bool:
        if lead_id in changed_during_sync:
            assert alice.put(f"/leads/{lead_id}", changed_during_sync.pop(lead_id)).status_code == 200
        return write(store, tenant_id, lead_id, user_id, name)

    monkeypatch.setattr(LeadStore, "show_assignee_name", changed_first)
    rename(tenant, 2, "Bobby Baker")

    stream.deliver()

    assert not changed_during_sync  # both changes were made, in the middle of the sync
    assert shown(alice, reassigned)[:2] == (3, "Carol Chen")
    assert shown(alice, edited)[:2] == shown(alice, plain)[:2] == (2, "Bobby Baker")
    assert alice.get(f"/leads/{edited}").json["phone"] == "+1 555 0100"


def test_a_client_holding_an_etag_from_before_the_rename_reads_again(tenant: Tenant, stream: Stream) -> None:
    alice = tenant.as_user(1)
    lead_id = create(alice, "Bob", 2)
    stale_etag = shown(alice, lead_id)[2]
    rename(tenant, 2, "Bobby Baker")
    stream.deliver()
    edit = {"first_name": "Bob", "last_name": "Lead", "phone": "+1 555 0101"}

    refused = alice.put(f"/leads/{lead_id}", edit, headers={"If-Match": stale_etag})
    accepted = alice.put(f"/leads/{lead_id}", edit)  # without If-Match: applied to the fresh lead

    assert refused.status_code == 412
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json["phone"], accepted.json["assigned_to_name"]) == ("+1 555 0101", "Bobby Baker")


def test_the_cost_is_the_renamed_users_leads_not_the_tenants(tenant: Tenant, stream: Stream) -> None:
    alice = tenant.as_user(1)
    for i in range(3):
        create(alice, f"Bob{i}", 2)
    for i in range(4):
        create(alice, f"Carol{i}", 3)
    rename(tenant, 2, "Bob Two")
    stream.deliver()
    small_tenant = stream.last_cost
    for i in range(40):  # ten times Carol's leads, and unassigned ones
        create(alice, f"More{i}", 3 if i % 2 else None)

    rename(tenant, 2, "Bob Three")
    stream.deliver()

    # The user (GetItem), their leads (one GSI3 page), one write per lead: at any tenant size.
    expected = {
        "requests": 5,
        "items_read": 4,
        "by_operation": {"GetItem": 1, "Query": 1, "TransactWriteItems": 3},
    }
    assert small_tenant == stream.last_cost == expected


def test_close_to_the_timeout_the_batch_fails_and_its_redelivery_finishes(
    tenant: Tenant, stream: Stream
) -> None:
    """The rule stops before the invocation's time runs out (the batch fails and comes again);
    the next delivery writes only the leads not renamed yet."""
    alice = tenant.as_user(1)
    bobs = [create(alice, f"Bob{i}", 2) for i in range(5)]
    before = {lead_id: shown(alice, lead_id)[2] for lead_id in bobs}
    rename(tenant, 2, "Bob Later")
    records = [record for record in stream.reader.read() if passes(stream.source.filter_patterns, record)]
    ample, running_out = directory_sync.STOP_BEFORE_TIMEOUT_MS * 10, directory_sync.STOP_BEFORE_TIMEOUT_MS - 1
    clock = iter([ample, ample, running_out])

    with pytest.raises(directory_sync.OutOfTime):
        directory_sync.show_new_names(
            DynamoDBStreamEvent({"Records": records}).records,
            get_lead_store(),
            get_directory_store(),
            lambda: next(clock),
        )
    assert sum(shown(alice, lead_id)[1] == "Bob Later" for lead_id in bobs) == 2

    stream.invoke({"Records": records})  # the same batch again, with the function's own time

    assert stream.last_cost["by_operation"]["TransactWriteItems"] == 3
    for lead_id in bobs:  # each written once over both deliveries: its version moved by one
        assert shown(alice, lead_id)[1:3] == ("Bob Later", next_version(before[lead_id]))
