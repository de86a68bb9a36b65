"""A merge's pure rules (``leads_shared.merges``): which value the survivor takes, what a
request may not ask, and what an undo puts back or keeps."""

from __future__ import annotations

from typing import Any

import pytest

from leads_shared.auth import Principal
from leads_shared.errors import ValidationFailed
from leads_shared.lead_history import user_actor
from leads_shared.merges import check_request, choose_values, reverted
from leads_shared.models.leads import Lead
from leads_shared.models.merges import MergeRecord, MergeRequest

NOW = "2026-11-28T10:00:00.000000Z"


def lead(lead_id: int, **fields: Any) -> Lead:
    values = {"first_name": "Ann", "last_name": "Lee", **fields}
    return Lead(tenant_id="acme", id=lead_id, created_at=NOW, updated_at=NOW, **values)


def test_the_survivor_keeps_its_values_and_fills_its_gaps_from_the_others_in_order():
    survivor = lead(1, email="ann@x.com", company="")
    second = lead(2, email="a2@x.com", phone="+1 555 0100", assigned_to=3, assigned_to_name="Carol")
    third = lead(3, phone="+1 555 0300", company="Initech", job_title="CTO")
    values, chosen = choose_values(survivor, [second, third], {})
    assert values == {
        "phone": "+1 555 0100",  # the first of the others that has one
        "company": "Initech",  # blank counts as empty
        "job_title": "CTO",
        "assigned_to": 3,
        "assigned_to_name": "Carol",  # the assignee's name comes with it
    }
    assert chosen == {"phone": 2, "company": 3, "job_title": 3, "assigned_to": 2}


def test_a_chosen_lead_gives_its_value_even_an_empty_one():
    survivor = lead(1, email="ann@x.com", phone="+1 555 0001")
    other = lead(2, first_name="Annie", email=None, phone="+1 555 0002")
    values, chosen = choose_values(survivor, [other], {"email": 2, "first_name": 2, "phone": 1})
    assert values == {"email": None, "first_name": "Annie"}
    assert chosen == {"email": 2, "first_name": 2}
    assert choose_values(survivor, [lead(2, email="ann@x.com")], {"email": 2}) == ({}, {})  # same value


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"merge_ids": [1]}, "merge_ids"),
        ({"merge_ids": [2, 2]}, "merge_ids"),
        ({"merge_ids": [2], "fields": {"phone": 3}}, "fields.phone"),
        ({"merge_ids": [2], "fields": {"status": 2}}, "fields.status"),
    ],
)
def test_what_a_request_may_not_ask(body: dict[str, Any], field: str):
    with pytest.raises(ValidationFailed) as refused:
        check_request(1, MergeRequest.model_validate(body))
    assert list(refused.value.errors) == [field]
    check_request(1, MergeRequest.model_validate({"merge_ids": [2, 3], "fields": {"phone": 1, "email": 3}}))


def test_an_undo_puts_back_what_the_merge_changed_and_keeps_what_changed_since():
    before = lead(1, phone=None, company="Old", assigned_to=2, assigned_to_name="Bob")
    values = {"phone": "+1 555 0100", "company": "New", "assigned_to": 3, "assigned_to_name": "Carol"}
    record = MergeRecord(
        tenant_id="acme", merge_id="m1", survivor_id=1, merged_ids=[2], status="done", values=values,
        chosen={"phone": 2, "company": 2, "assigned_to": 2}, survivor_before=before, merged=[lead(2)],
        moved={"notes": 0, "tasks": 0, "emails": 0}, actor=user_actor(Principal(user_id=2, tenant_id="acme")),
        merged_at=NOW, undo_until=NOW, expires_at=0,
    )  # fmt: skip
    since = before.model_copy(update={**values, "phone": "+1 555 0999", "status": "contacted"})
    back, kept = reverted(record, since)
    assert kept == ["phone"]
    assert (back.phone, back.company, back.assigned_to, back.assigned_to_name) == (
        "+1 555 0999",
        "Old",
        2,
        "Bob",
    )
    assert back.status == "contacted"  # not the merge's: left as it is
