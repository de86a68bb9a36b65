"""What each lifecycle route costs in DynamoDB requests and items read (deterministic): the
figures of the README's access-pattern table, and none of them grows with the tenant's data."""

from __future__ import annotations

from leads_shared.data import get_directory_store
from leads_shared.models.directory import DealStage
from tests.support.clients import lead_body


def ops(caller) -> dict[str, int]:
    return caller.last_cost["by_operation"]


def test_lifecycle_route_costs(tenant):
    get_directory_store().put_stage(DealStage(tenant_id=tenant.tenant_id, id=1, name="New", position=1))
    bob = tenant.as_user(2, name="Bob Baker")  # the token carries the author's name
    for _ in range(30):  # other leads of the tenant change nothing below
        bob.post("/leads", lead_body(company="Acme Inc"))
    lead = bob.post("/leads", lead_body(company="Acme Inc")).json["id"]

    bob.post(f"/leads/{lead}/notes", {"content": "one"})
    assert ops(bob) == {"UpdateItem": 1, "TransactWriteItems": 1}  # take an id; write if the lead exists
    bob.post(f"/leads/{lead}/notes", {"content": "two"})
    bob.get(f"/leads/{lead}")
    assert ops(bob) == {"Query": 1} and bob.last_cost["items_read"] == 3  # the lead and its 2 notes
    bob.get(f"/leads/{lead}/notes")
    assert ops(bob) == {"Query": 1} and bob.last_cost["items_read"] == 3
    bob.delete(f"/leads/{lead}/notes/2")
    assert ops(bob) == {"GetItem": 1, "TransactWriteItems": 1}  # the note's delete if its lead is live

    bob.get(f"/leads/{lead}/tasks")
    assert ops(bob) == {"Query": 1, "GetItem": 1}  # its tasks (none yet), and is the lead live?
    bob.post(f"/leads/{lead}/tasks", {"title": "Call", "assigned_to": 3})
    assert ops(bob) == {"BatchGetItem": 1, "UpdateItem": 1, "TransactWriteItems": 1}
    bob.get(f"/leads/{lead}/tasks")
    assert ops(bob) == {"Query": 1, "GetItem": 1} and bob.last_cost["items_read"] == 2  # and the lead
    bob.put(f"/leads/{lead}/tasks/1", {"title": "Call back", "completed": True})
    assert ops(bob) == {"BatchGetItem": 1, "PutItem": 1}

    bob.get("/leads/match-company", query={"company": "ACME"})
    assert ops(bob) == {"Query": 1}
    bob.get("/leads/match-contact", query={"email": "JOHN.DOE@example.com"})
    assert ops(bob) == {"Query": 1} and bob.last_cost["items_read"] == 20  # at most 20 matches

    bob.post(f"/leads/{lead}/qualify", {"create_company": True, "create_deal": True})
    assert ops(bob) == {"GetItem": 1, "Query": 1, "UpdateItem": 1, "TransactWriteItems": 1}
    bob.post("/leads/1/qualify", headers={"Idempotency-Key": "k"})
    # plus Powertools' idempotency record: put "in progress", then updated "completed"
    assert ops(bob) == {"GetItem": 1, "UpdateItem": 2, "TransactWriteItems": 1, "PutItem": 1}
    bob.put("/leads/2/disqualify", {"reason": "no"})
    assert ops(bob) == {"GetItem": 1, "TransactWriteItems": 1}  # with the status counters

    for path in ("/contacts/1", "/companies/1", "/deals/1"):
        assert bob.get(path).status_code == 200 and ops(bob) == {"GetItem": 1}

    bob.delete(f"/leads/{lead}")
    # the lead; one transaction moves it to the recycle bin (its children stay)
    assert ops(bob) == {"GetItem": 1, "TransactWriteItems": 1}
