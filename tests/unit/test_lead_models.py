"""Request models: what a client may send, and the messages it gets back when it is wrong."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import TypeAdapter, ValidationError

from leads_shared.http_errors import validation_body
from leads_shared.models.leads import IsoDay, LeadCreate, LeadUpdate
from leads_shared.validation_messages import field_errors


def errors_of(model, body):
    with pytest.raises(ValidationError) as info:
        model.model_validate(body)
    return field_errors(info.value.errors())


def test_defaults_blank_strings_and_trimming():
    lead = LeadCreate.model_validate(
        {"first_name": "  John ", "last_name": "Doe", "email": "", "phone": "  ", "company": " Acme "}
    )
    assert (lead.first_name, lead.email, lead.phone, lead.company) == ("John", None, None, "Acme")
    assert lead.status == "new"


def test_unknown_and_protected_fields_are_ignored():
    lead = LeadCreate.model_validate(
        {
            "first_name": "A",
            "last_name": "B",
            "id": 99,
            "created_at": "x",
            "tenant_id": "other",
            "PK": "TENANT#other",
            "GSI1PK": "x",
            "version": 7,
        }
    )
    assert set(lead.model_dump()) == {
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "job_title",
        "source",
        "status",
        "notes",
        "tags",
        "assigned_to",
    }


def test_messages_name_each_field_in_the_api_style():
    found = errors_of(
        LeadCreate,
        {
            "first_name": "",
            "email": "not-an-email",
            "status": "won",
            "assigned_to": "x",
            "company": "c" * 256,
        },
    )
    assert found == {
        "first_name": ["The first name field is required."],
        "last_name": ["The last name field is required."],
        "email": ["The email field must be a valid email address."],
        "status": [
            "The selected status is invalid. Allowed values: new, contacted, qualified, disqualified."
        ],
        "assigned_to": ["The assigned to field must be an integer."],
        "company": ["The company field must not be greater than 255 characters."],
    }
    body = validation_body(found)
    assert body["message"] == "The first name field is required. (and 5 more errors)"


def test_update_reports_only_the_fields_sent():
    update = LeadUpdate.model_validate({"first_name": "A", "last_name": "B", "phone": None})
    assert update.changes() == {"first_name": "A", "last_name": "B", "phone": None}


def test_update_refuses_null_status_but_allows_leaving_it_out():
    assert "status" not in LeadUpdate.model_validate({"first_name": "A", "last_name": "B"}).changes()
    assert errors_of(LeadUpdate, {"first_name": "A", "last_name": "B", "status": None}) == {
        "status": ["The selected status is invalid."]
    }


@pytest.mark.parametrize("value", [0, -1, 2**31 + 1])
def test_assigned_to_must_be_a_positive_id(value):
    assert "assigned_to" in errors_of(LeadCreate, {"first_name": "A", "last_name": "B", "assigned_to": value})


@pytest.mark.parametrize("text", ["2026-01-15", " 2026-01-15 "])
def test_a_query_day_is_yyyy_mm_dd_and_may_carry_spaces(text):
    assert TypeAdapter(IsoDay).validate_python(text) == date(2026, 1, 15)


@pytest.mark.parametrize("text", ["0", "20260115", "15/01/2026", "2026-1-15"])
def test_other_day_spellings_are_refused(text):
    with pytest.raises(ValidationError):
        TypeAdapter(IsoDay).validate_python(text)
