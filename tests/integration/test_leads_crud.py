"""POST/GET/PUT/DELETE /leads/{id}: the contract's fields, validation, tenancy, versions."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from leads_shared.auth import Principal
from leads_shared.data import get_lead_store, get_mail_store
from leads_shared.data.lead_counters import LeadStats
from leads_shared.leads import create_lead
from leads_shared.models.leads import LeadCreate
from tests.support.clients import lead_body

LEAD_FIELDS = {
    "id", "first_name", "last_name", "email", "phone", "company", "job_title", "source",
    "status", "notes", "tags", "assigned_to", "assigned_to_name", "created_at", "updated_at",
    # what qualifying converted it into, and disqualifying's reason (null until then)
    "contact_id", "company_id", "deal_id", "qualified_at", "disqualified_reason", "disqualified_at",
    # where a web form's submission came from, and the consent it gave (null for other leads)
    "attribution", "consent",
}  # fmt: skip
TIMESTAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"
FULL = {
    "first_name": "John", "last_name": "Doe", "email": "john.doe@example.com", "phone": "+1 555 0100",
    "company": "Doe Industries", "job_title": "CTO", "source": "Website", "status": "contacted",
    "notes": "Met at the booth.", "tags": "vip,inbound", "assigned_to": 3,
}  # fmt: skip


def test_create_returns_the_lead_with_the_contract_fields(bob):
    response = bob.post("/leads", FULL)
    assert response.status_code == 201
    lead = response.json
    assert set(lead) == LEAD_FIELDS
    assert {k: lead[k] for k in FULL} == FULL
    assert lead["id"] == 1 and lead["assigned_to_name"] == "Carol Chen"
    assert lead["attribution"] is None and lead["consent"] is None
    assert lead["created_at"] == lead["updated_at"]
    assert __import__("re").match(TIMESTAMP, lead["created_at"])
    assert response.headers["ETag"] == '"1"'
    assert bob.get("/leads/1").json == {**lead, "lead_notes": []}


def test_ids_are_sequential_per_tenant(bob, other_tenant):
    assert [bob.post("/leads", lead_body()).json["id"] for _ in range(3)] == [1, 2, 3]
    assert other_tenant.as_user(2).post("/leads", lead_body()).json["id"] == 1


def test_create_minimal_lead_defaults(bob):
    lead = bob.post("/leads", {"first_name": "Ann", "last_name": "Lee"}).json
    assert lead["status"] == "new"
    assert all(lead[k] is None for k in ("email", "phone", "company", "assigned_to", "assigned_to_name"))


def test_fields_a_client_may_not_set_are_ignored(bob):
    body = lead_body(id=999, created_at="2000-01-01T00:00:00.000000Z", tenant_id="evil", version=50,
                     PK="TENANT#evil", SK="LEAD", GSI1PK="x", assigned_to_name="Nobody")  # fmt: skip
    lead = bob.post("/leads", body).json
    assert lead["id"] == 1 and lead["created_at"] != body["created_at"]
    assert lead["assigned_to_name"] is None
    assert bob.get("/leads/1").headers["ETag"] == '"1"'


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"last_name": "Doe"}, "first_name", "The first name field is required."),
        (lead_body(first_name="   "), "first_name", "The first name field is required."),
        (lead_body(email="not-an-email"), "email", "The email field must be a valid email address."),
        (
            lead_body(status="won"),
            "status",
            "The selected status is invalid. Allowed values: new, contacted, qualified, disqualified.",
        ),
        (lead_body(assigned_to="bob"), "assigned_to", "The assigned to field must be an integer."),
        (lead_body(assigned_to=42), "assigned_to", "The selected assigned to is invalid."),
        (lead_body(phone="1" * 51), "phone", "The phone field must not be greater than 50 characters."),
        (lead_body(first_name=7), "first_name", "The first name field must be a string."),
    ],
)
def test_invalid_bodies_are_422_naming_the_field(bob, body, field, message):
    response = bob.post("/leads", body)
    assert response.status_code == 422
    assert response.json["errors"][field] == [message]
    assert response.json["message"].startswith(message.rstrip("."))
    assert bob.get("/leads", query={"per_page": 1}).json["total"] == 0  # nothing written


@pytest.mark.parametrize(
    ("query", "field", "allowed"),
    [
        ({"sort_by": "bogus"}, "sort_by",
         "name, email, company_name, status, source, assigned_to_name, created_at"),
        ({"sort_dir": "up"}, "sort_dir", "ASC, DESC"),
        ({"scope": "all"}, "scope", "me, team, company"),
        ({"status": "won"}, "status", "new, contacted, qualified, disqualified"),
    ],
)  # fmt: skip
def test_a_value_outside_an_enum_is_a_422_that_lists_the_allowed_values(bob, query, field, allowed):
    response = bob.get("/leads", query=query)
    assert response.status_code == 422
    attr = field.replace("_", " ")
    assert response.json["errors"] == {field: [f"The selected {attr} is invalid. Allowed values: {allowed}."]}


SHORT = "The {} field must not contain control characters or bidirectional overrides."
LONG = "The {} field must not contain control characters other than tabs and line breaks."


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"first_name": "Jo\x00hn"}, "first_name", SHORT.format("first name")),
        ({"last_name": "Doe\x1b[31m"}, "last_name", SHORT.format("last name")),
        ({"company": "Acme\nLtd"}, "company", SHORT.format("company")),
        ({"company": "Acme\u202egnp.exe"}, "company", SHORT.format("company")),
        ({"job_title": "CTO\u2066x\u2069"}, "job_title", SHORT.format("job title")),
        ({"phone": "555\x7f"}, "phone", SHORT.format("phone")),
        ({"notes": "Called\x07"}, "notes", LONG.format("notes")),
    ],
)
def test_control_and_bidi_override_characters_are_refused_in_texts(bob, fields, field, message):
    response = bob.post("/leads", lead_body(**fields))
    assert response.status_code == 422
    assert response.json["errors"] == {field: [message]}


def test_long_texts_keep_tabs_and_line_breaks_and_names_keep_any_script(bob):
    notes = "Called twice:\n\t- no answer\r\n\t- voicemail"
    names = {"first_name": "\u0639\u0644\u064a", "last_name": "O\u2019Brien"}  # Arabic; an apostrophe
    response = bob.post("/leads", lead_body(**names, notes=notes))
    assert response.status_code == 201, response.json
    assert response.json["notes"] == notes
    note = bob.post(f"/leads/{response.json['id']}/notes", {"content": "Line 1\nLine 2\x00"})
    assert note.status_code == 422 and "content" in note.json["errors"]


def test_assignee_of_another_tenant_is_invalid(bob, other_tenant, gateway):
    # User ids are per tenant: user 3 exists in both, user 4 in neither.
    response = bob.post("/leads", lead_body(assigned_to=4))
    assert response.status_code == 422 and "assigned_to" in response.json["errors"]


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ("{not json", 400, "The request body is not valid JSON."),
        ("[1, 2]", 422, "The request body must be a JSON object."),
        ('"text"', 422, "The request body must be a JSON object."),
    ],
)
def test_malformed_bodies(bob, data, status, message):
    response = bob.request("POST", "/leads", data=data, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json["message"] == message


def test_deeply_nested_and_oversized_bodies_are_4xx(bob):
    deep = "[" * 100_000 + "]" * 100_000
    response = bob.request("POST", "/leads", data=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json == {"message": "The request body is nested too deeply."}
    huge = json.dumps(lead_body(notes="x" * 2_000_000))
    response = bob.request("POST", "/leads", data=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert bob.get("/leads").json["total"] == 0


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_and_malformed_ids(bob, method):
    response = bob.request(method, "/leads/12345", json_body=lead_body())
    assert response.status_code == 404
    assert response.json == {"message": "Lead not found."}
    for bad in ("abc", "0", "-1", "1.5", str(2**60)):
        response = bob.request(method, f"/leads/{bad}", json_body=lead_body())
        assert response.status_code == 422, bad
        assert list(response.json["errors"]) == ["id"]


def test_long_names_in_any_script_are_stored_and_sorted(bob):
    body = lead_body(first_name="名" * 255, last_name="字" * 255)
    response = bob.post("/leads", body)
    assert response.status_code == 201
    assert bob.get("/leads").json["data"][0]["first_name"] == "名" * 255


@pytest.mark.parametrize("value", [True, 2.5, [2], {"id": 2}])
def test_assigned_to_takes_integers_only(bob, value):
    response = bob.post("/leads", lead_body(assigned_to=value))
    assert response.status_code == 422
    assert response.json["errors"] == {"assigned_to": ["The assigned to field must be an integer."]}


@pytest.mark.parametrize("value", ["2", 2.0])  # JSON Schema's integer includes 2.0
def test_assigned_to_as_digit_string_or_integral_number_is_accepted(bob, value):
    lead = bob.post("/leads", lead_body(assigned_to=value)).json
    assert (lead["assigned_to"], lead["assigned_to_name"]) == (2, "Bob Baker")


def test_blank_if_match_is_no_condition(bob):
    bob.post("/leads", lead_body())
    assert bob.put("/leads/1", lead_body(notes="x"), headers={"If-Match": ""}).status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [({"per_page": "1" + "0" * 5000}, "per_page"), ({"date_from": "1700000000"}, "date_from")],
)
def test_odd_inputs_get_messages_in_the_api_style(bob, query, field):
    response = bob.get("/leads", query=query)
    assert response.status_code == 422
    (message,) = response.json["errors"][field]
    assert message.startswith(f"The {field.replace('_', ' ')} field")


def test_another_tenants_lead_is_not_found_and_not_writable(bob, other_tenant):
    lead_id = bob.post("/leads", FULL).json["id"]
    intruder = other_tenant.as_user(1)  # even its admin
    assert intruder.get(f"/leads/{lead_id}").status_code == 404
    assert intruder.put(f"/leads/{lead_id}", lead_body(first_name="Hacked")).status_code == 404
    assert intruder.delete(f"/leads/{lead_id}").status_code == 404
    assert intruder.get("/leads").json["total"] == 0
    assert bob.get(f"/leads/{lead_id}").json["first_name"] == "John"


def test_update_changes_sent_fields_keeps_the_rest_and_null_clears(bob):
    created = bob.post("/leads", FULL).json
    response = bob.put(
        "/leads/1", {"first_name": "Johnny", "last_name": "Doe", "phone": None, "assigned_to": 2}
    )
    assert response.status_code == 200
    lead = response.json
    assert lead["first_name"] == "Johnny" and lead["phone"] is None
    assert lead["assigned_to"] == 2 and lead["assigned_to_name"] == "Bob Baker"
    assert lead["company"] == FULL["company"] and lead["status"] == "contacted"
    assert lead["created_at"] == created["created_at"] and lead["updated_at"] > created["updated_at"]
    assert response.headers["ETag"] == '"2"'
    assert bob.get("/leads/1").json == {**lead, "lead_notes": []}


def test_update_without_changes_writes_nothing(bob):
    bob.post("/leads", FULL)
    response = bob.put("/leads/1", {"first_name": "John", "last_name": "Doe"})
    assert response.status_code == 200 and response.headers["ETag"] == '"1"'
    assert bob.last_cost["by_operation"] == {"BatchGetItem": 1}


def test_update_requires_names_and_validates(bob):
    bob.post("/leads", FULL)
    response = bob.put("/leads/1", {"email": "x@y.com"})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"first_name", "last_name"}
    response = bob.put("/leads/1", lead_body(status=None))
    assert response.json["errors"] == {"status": ["The selected status is invalid."]}
    response = bob.put("/leads/1", lead_body(assigned_to=99))
    assert response.status_code == 422
    assert bob.get("/leads/1").json["email"] == FULL["email"]


def test_if_match_prevents_lost_updates(bob, alice):
    etag = bob.post("/leads", FULL).headers["ETag"]
    first = alice.put("/leads/1", lead_body(notes="Alice was here"), headers={"If-Match": etag})
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    stale = bob.put("/leads/1", lead_body(notes="Bob overwrites"), headers={"If-Match": etag})
    assert stale.status_code == 412
    assert set(stale.json) == {"message"}
    assert bob.get("/leads/1").json["notes"] == "Alice was here"
    assert bob.delete("/leads/1", headers={"If-Match": etag}).status_code == 412
    assert bob.get("/leads/1").status_code == 200
    assert bob.delete("/leads/1", headers={"If-Match": first.headers["ETag"]}).status_code == 200


def test_if_match_takes_the_version_unquoted_or_weak(bob):
    """`If-Match: 1` (the version copied without its quotes) and `W/"1"` mean `"1"`."""
    bob.post("/leads", lead_body())
    for version, if_match in [(1, "1"), (2, 'W/"2"'), (3, ' "9", 3 '), (4, "W/4")]:
        response = bob.put("/leads/1", lead_body(notes=f"v{version}"), headers={"If-Match": if_match})
        assert response.status_code == 200, (if_match, response.json)
        assert response.headers["ETag"] == f'"{version + 1}"'
    for stale in ("4", 'W/"4"', '"1"'):
        assert bob.put("/leads/1", lead_body(notes="late"), headers={"If-Match": stale}).status_code == 412
    assert bob.delete("/leads/1", headers={"If-Match": "5"}).status_code == 200


def test_delete_removes_the_lead_and_its_counts(bob):
    bob.post("/leads", lead_body(assigned_to=2, status="contacted"))
    bob.post("/leads", lead_body())
    response = bob.delete("/leads/1")
    assert response.status_code == 200 and response.json == {"success": True}
    assert bob.get("/leads/1").status_code == 404
    assert bob.delete("/leads/1").status_code == 404
    assert bob.get("/leads").json["total"] == 1
    assert bob.get("/leads", query={"status": "contacted"}).json["total"] == 0
    assert bob.get("/leads", query={"scope": "me"}).json["total"] == 0


def test_concurrent_creates_get_distinct_ids_and_exact_counts(tenant):
    principal = Principal(user_id=2, tenant_id=tenant.tenant_id)
    store = get_lead_store()

    def create(i: int) -> int:
        return create_lead(
            principal, LeadCreate(first_name=f"N{i}", last_name="X", status="new"), store, get_mail_store()
        ).id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(20)))
    assert sorted(ids) == list(range(1, 21))
    stats = store.stats(tenant.tenant_id)
    assert (stats.total, stats.count("status_new"), stats.lead_seq) == (20, 20, 20)


def test_a_create_that_loses_the_id_race_takes_the_next_free_id(tenant, monkeypatch):
    principal = Principal(user_id=2, tenant_id=tenant.tenant_id)
    store = get_lead_store()
    first = create_lead(principal, LeadCreate(first_name="First", last_name="X"), store, get_mail_store())
    # The second writer read the sequence before the first one committed.
    monkeypatch.setattr(store, "stats_with_user", lambda *_: (LeadStats(), None))
    second = create_lead(principal, LeadCreate(first_name="Second", last_name="X"), store, get_mail_store())
    assert (first.id, second.id) == (1, 2)
    assert store.get(tenant.tenant_id, 1).first_name == "First"
    assert store.stats(tenant.tenant_id).total == 2


# ------------------------------------------------------------------ cost (DynamoDB requests)
def test_each_route_stays_within_its_request_budget(bob):
    bob.post("/leads", FULL)
    # stats with the assignee, one Query per match key (email, phone, name and company: its likely
    # duplicates), the write, and (it has an email) the Query for emails captured for it
    assert bob.last_cost["by_operation"] == {"BatchGetItem": 1, "TransactWriteItems": 1, "Query": 3 + 1}
    bob.post("/leads", {"first_name": "No", "last_name": "Email"})
    assert bob.last_cost["requests"] <= 2
    bob.get("/leads/1")
    assert bob.last_cost["requests"] == 1 and bob.last_cost["items_read"] == 1
    bob.put("/leads/1", lead_body(status="new", assigned_to=1))
    assert bob.last_cost["requests"] <= 2
    bob.delete("/leads/1")
    # read the lead, then one transaction: its trashed item for it, its entries and counts
    assert bob.last_cost["by_operation"] == {"GetItem": 1, "TransactWriteItems": 1}


def test_each_request_publishes_its_dynamodb_usage(bob, capsys):
    """Operators see per-route cost in CloudWatch (EMF metrics on stdout) without a debugger."""
    bob.post("/leads", FULL)
    capsys.readouterr()
    bob.get("/leads/1")
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    usage = next(doc for doc in emitted if "DynamoDBRequests" in doc)
    assert usage["DynamoDBRequests"] == [1.0] and usage["DynamoDBItemsRead"] == [1.0]


def test_failed_requests_publish_their_dynamodb_usage_too(bob, capsys):
    capsys.readouterr()
    assert bob.get("/leads/999").status_code == 404
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    usage = next(doc for doc in emitted if "DynamoDBRequests" in doc)
    assert usage["DynamoDBRequests"] == [1.0] and usage["DynamoDBItemsRead"] == [0.0]
