"""The rules of an erasure that need no store: which history values are blanked, which erasure
ids a retry shares, the past-email item a change of email (or a merge) writes, and what a merge
record keeps of an address."""

from __future__ import annotations

from leads_shared.data.lead_entries import merged_away_writes, past_email_writes
from leads_shared.erasure import REDACTED, erasure_id_for, redact_entry, redact_record, redacted
from leads_shared.lead_history import change
from leads_shared.models.history import Actor
from leads_shared.models.leads import Lead
from leads_shared.models.merges import MergeRecord

ADDRESS = "jane.roe@example.com"


def lead(**fields: object) -> Lead:
    values = {
        "tenant_id": "acme",
        "id": 7,
        "first_name": "Jane",
        "last_name": "Roe",
        "email": "Jane.Roe@Example.com",
        "status": "new",
        "version": 1,
        "created_at": "2026-01-01T00:00:00.000000Z",
        "updated_at": "2026-01-01T00:00:00.000000Z",
    }
    return Lead.model_validate({**values, **fields})


def test_a_value_that_holds_the_address_in_any_case_is_blanked_wherever_it_is() -> None:
    assert redacted("Jane.ROE@example.com", ADDRESS) == REDACTED
    assert redacted("wrote from jane.roe@example.com today", ADDRESS) == REDACTED
    assert redacted({"email": ADDRESS, "page": "https://x.example"}, ADDRESS) == {
        "email": REDACTED,
        "page": "https://x.example",
    }
    assert redacted([ADDRESS.upper(), 3, None], ADDRESS) == [REDACTED, 3, None]
    assert redacted("jane@example.com", ADDRESS) == "jane@example.com"


def test_an_address_that_only_contains_the_erased_one_is_another_persons() -> None:
    assert redacted("Jane Roe <JANE.ROE@example.com>.", ADDRESS) == REDACTED
    assert redacted("mary.jane.roe@example.com", ADDRESS) == "mary.jane.roe@example.com"
    assert redacted("xjane.roe@example.com", ADDRESS) == "xjane.roe@example.com"
    assert redacted("jane.roe@example.com.au", ADDRESS) == "jane.roe@example.com.au"
    assert redacted(["jane.roe@example.community"], ADDRESS) == ["jane.roe@example.community"]


def test_a_history_entry_keeps_its_change_without_the_value() -> None:
    before, after = lead(), lead(email="jane@elsewhere.example", version=2)
    entry = change(before, after, Actor(type="user", id=1, name="Alice"))

    blanked = redact_entry(entry, ADDRESS)

    assert blanked is not None
    assert [(c.field, c.old, c.new) for c in blanked.changes] == [
        ("email", REDACTED, "jane@elsewhere.example")
    ]
    assert (blanked.at, blanked.actor, blanked.action, blanked.version) == (
        entry.at,
        entry.actor,
        entry.action,
        entry.version,
    )
    unrelated = change(lead(), lead(status="contacted", version=2), Actor(type="system"))
    assert redact_entry(unrelated, ADDRESS) is None


def test_a_key_names_one_erasure_of_one_address_and_no_key_a_new_one() -> None:
    keyed = erasure_id_for("acme", "key-1", ADDRESS)
    assert keyed == erasure_id_for("acme", "key-1", ADDRESS)
    assert keyed != erasure_id_for("acme", "key-1", "other@example.com")
    assert keyed != erasure_id_for("globex", "key-1", ADDRESS)
    assert ADDRESS not in keyed
    assert erasure_id_for("acme", None, ADDRESS) != erasure_id_for("acme", None, ADDRESS)


def test_a_change_of_email_away_from_an_address_writes_its_past_email_item() -> None:
    before = lead()
    (put,) = past_email_writes("T", before, lead(email="new@example.com", version=2))
    item = put["Put"]["Item"]
    assert item["SK"] == {"S": f"PAST#{ADDRESS}"}
    assert item["SEARCHPK"] == {"S": f"TENANT#acme#PAST#{ADDRESS}"}
    assert past_email_writes("T", before, lead(email="JANE.roe@example.com", version=2)) == []
    assert past_email_writes("T", None, before) == []
    assert past_email_writes("T", before, None) == []
    assert len(past_email_writes("T", before, lead(email=None, version=2))) == 1


def test_a_merged_away_lead_writes_the_past_email_item_of_its_own_address() -> None:
    (put,) = merged_away_writes("T", lead())
    assert put["Put"]["Item"]["SK"] == {"S": f"PAST#{ADDRESS}"}
    assert put["Put"]["Item"]["SEARCHPK"] == {"S": f"TENANT#acme#PAST#{ADDRESS}"}
    assert merged_away_writes("T", lead(email=None)) == []


def test_a_merge_record_loses_the_address_from_its_copies_and_is_marked_erased() -> None:
    survivor = lead(id=8, email="bee@else.example", first_name="Bea")
    record = MergeRecord(
        tenant_id="acme", merge_id="8-1", survivor_id=8, merged_ids=[7], status="done",
        values={"phone": "+1 555 0100"}, chosen={"phone": 7}, survivor_before=survivor,
        merged=[lead(phone="+1 555 0100")], moved={"notes": 0, "tasks": 0, "emails": 0},
        actor=Actor(type="user", id=1, name="Alice"), merged_at="2026-01-02T00:00:00.000000Z",
        undo_until="2026-02-01T00:00:00.000000Z", expires_at=0,
    )  # fmt: skip

    blanked = redact_record(record, ADDRESS, "2026-01-03T00:00:00.000000Z")

    assert blanked is not None and blanked.erased_at == "2026-01-03T00:00:00.000000Z"
    assert blanked.merged[0].email == REDACTED and blanked.merged[0].phone == "+1 555 0100"
    assert blanked.survivor_before == survivor and blanked.values == record.values
    assert redact_record(record, "someone@else.example", "2026-01-03T00:00:00.000000Z") is None
