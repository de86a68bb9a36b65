"""The expiry rule on its own: which stream records are TTL's removals of trashed leads, and what
is removed then (the store is a small fake; tests/integration/test_recycle_bin.py runs it on the
emulator with the table's own records)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from leads_shared.data.lead_store import LeadRemains
from leads_shared.models.leads import Lead
from leads_shared.trash_expiry import ExpiredLead, expired_leads, remove_children

TTL = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def trashed_image(tenant_id: str = "acme", lead_id: int = 7, entity: str = "trashed_lead") -> dict[str, Any]:
    return {
        "PK": {"S": f"TENANT#{tenant_id}#LEAD#{lead_id}"},
        "SK": {"S": "TRASH"},
        "entity": {"S": entity},
        "tenant_id": {"S": tenant_id},
        "id": {"N": str(lead_id)},
    }


def record(old: dict[str, Any], event_name: str = "REMOVE", identity: dict | None = TTL) -> dict[str, Any]:
    found: dict[str, Any] = {
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {}, "OldImage": old, "SequenceNumber": "1"},
    }
    if identity is not None:
        found["userIdentity"] = identity
    return found


def records(*items: dict[str, Any]) -> Any:
    return list(DynamoDBStreamEvent({"Records": list(items)}).records)


def test_only_ttls_removals_of_trashed_leads_count_each_once() -> None:
    found = expired_leads(
        records(
            record(trashed_image(lead_id=7)),
            record(trashed_image(lead_id=7)),  # redelivered in the same batch
            record(trashed_image(lead_id=8), identity=None),  # a restore's or removal's delete
            record(trashed_image(lead_id=9), identity={"type": "Service", "principalId": "other"}),
            record(trashed_image(lead_id=10, entity="lead")),
            record(trashed_image(lead_id=11), event_name="MODIFY"),
            record(trashed_image(tenant_id="globex", lead_id=7)),
        )
    )
    assert found == [ExpiredLead("acme", 7), ExpiredLead("globex", 7)]


class Partitions:
    """Lead partitions by (tenant, lead id): what each holds."""

    def __init__(self, held: dict[tuple[str, int], LeadRemains]) -> None:
        self.held = held
        self.removed: list[dict[str, str]] = []

    def get_with_children(self, tenant_id: str, lead_id: int) -> LeadRemains:
        return self.held.get((tenant_id, lead_id), LeadRemains(None, False, []))

    def remove_leftovers(self, keys: Any) -> None:
        self.removed += keys


def test_the_children_go_unless_the_partition_holds_a_lead_again() -> None:
    live = Lead(tenant_id="acme", id=8, first_name="Ann", last_name="Lee", created_at="t", updated_at="t")
    note = {"PK": "TENANT#acme#LEAD#7", "SK": "NOTE#000000000001"}
    partitions = Partitions(
        {
            ("acme", 7): LeadRemains(None, False, [note]),
            ("acme", 8): LeadRemains(live, False, [{"PK": "TENANT#acme#LEAD#8", "SK": "NOTE#1"}]),
            ("acme", 9): LeadRemains(None, True, [{"PK": "TENANT#acme#LEAD#9", "SK": "NOTE#1"}]),
        }
    )
    expired = records(*(record(trashed_image(lead_id=lead)) for lead in (7, 8, 9, 10)))

    assert remove_children(expired, partitions) == 1

    assert partitions.removed == [note]
