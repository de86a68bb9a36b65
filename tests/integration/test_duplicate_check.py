"""Duplicates at the door: `POST /leads`, `PUT /leads/{id}` and `POST /leads/{id}/restore` tell the
client when the lead has likely duplicates (`X-Possible-Duplicates` and a `Link` to them), and
refuse them with `on_duplicate=reject` (409 naming them, nothing written), reading one index Query
per match key and never the tenant's leads (``leads_shared.duplicate_check``)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devstack.runtime import LambdaFunction
from devstack.template import REPO_ROOT
from leads_shared.data import get_lead_store
from leads_shared.data.lead_store import LeadStore
from leads_shared.keys import DuplicateClaimKeys
from tests.support.bulk_leads import bulk_leads
from tests.support.clients import Caller, lead_body

REJECT = {"on_duplicate": "reject"}


def create(caller: Caller, query: dict[str, str] | None = None, **fields: Any):
    fields.setdefault("email", None)
    return caller.post("/leads", lead_body(**fields), query=query)


def total(caller: Caller) -> int:
    return int(caller.get("/leads").json["total"])


def test_a_create_tells_how_many_likely_duplicates_and_links_them(bob):
    first = create(bob, first_name="Ann", email="ann@x.io")
    assert first.status_code == 201
    assert "X-Possible-Duplicates" not in first.headers and "Link" not in first.headers
    create(bob, first_name="Bo", phone="+1 555 010 2030")
    second = create(bob, first_name="Cy", email="ANN@x.io", phone="15550102030")
    assert second.status_code == 201 and second.json["email"] == "ANN@x.io"  # the contract's body
    assert second.headers["X-Possible-Duplicates"] == "2"
    assert second.headers["Link"] == f'</leads/{second.json["id"]}/duplicates>; rel="duplicates"'
    listed = bob.get(f"/leads/{second.json['id']}/duplicates").json
    assert listed["total"] == 2


def test_the_signal_costs_one_query_per_match_key_in_a_tenant_of_any_size(tenant):
    bob = tenant.as_user(2)
    bulk_leads(tenant.tenant_id, 500)
    response = create(bob, first_name="Quill", last_name="Zebedee", email="q@z.io", phone="+44 1632 960000",
                      company="Quillworks")  # fmt: skip
    assert response.status_code == 201 and "X-Possible-Duplicates" not in response.headers
    # the assignee and counters, a Query per key (email, phone, name and company), the write, and
    # the Query for emails captured for the address: nothing of the 500 leads is read
    assert bob.last_cost["by_operation"] == {"BatchGetItem": 1, "Query": 3 + 1, "TransactWriteItems": 1}
    assert bob.last_cost["items_read"] == 1  # the tenant's counters
    again = create(bob, first_name="Quill", last_name="Zebedee", email="Q@z.io", company="Quillworks")
    assert again.headers["X-Possible-Duplicates"] == "1"
    assert bob.last_cost["by_operation"]["Query"] == 2 + 1
    assert bob.last_cost["items_read"] == 1 + 2  # the counters, the lead in each key's partition


def test_reject_refuses_a_create_with_a_409_naming_the_duplicates_and_writes_nothing(bob):
    ann = create(bob, first_name="Ann", last_name="Lee", email="ann@x.io", company="Lee Ltd").json["id"]
    contact = bob.post(f"/leads/{ann}/qualify", {}).json["contact_id"]
    before = total(bob)
    refused = create(bob, REJECT, first_name="ann", last_name="LEE", email=" Ann@X.io", company="LEE")
    assert refused.status_code == 409
    assert refused.json == {
        "message": "The lead has likely duplicates (2): nothing was written.",
        "duplicates": [
            {"id": ann, "type": "lead", "reasons": ["email", "name_company"], "score": 85},
            {"id": contact, "type": "contact", "reasons": ["email"], "score": 60},
        ],
    }
    assert total(bob) == before
    fresh = create(bob, REJECT, first_name="Ann", email="other@x.io")
    assert fresh.status_code == 201 and "X-Possible-Duplicates" not in fresh.headers


def test_sixteen_creates_one_after_another_with_one_email_and_reject_make_one_lead(bob):
    answers = [create(bob, REJECT, first_name=f"Ann{n}", email="same@x.io") for n in range(16)]
    assert [a.status_code for a in answers] == [201] + [409] * 15
    first = answers[0].json["id"]
    assert all(a.json["duplicates"] == [{"id": first, "type": "lead", "reasons": ["email"], "score": 60}]
               for a in answers[1:])  # fmt: skip
    assert total(bob) == 1


def test_sixteen_concurrent_rejecting_creates_with_one_email_make_one_lead(bob):
    def attempt(n: int) -> Any:
        return create(bob, REJECT, first_name=f"Ann{n}", email="Same@X.io" if n % 2 else "same@x.io")

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(attempt, range(16)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 15
    (won,) = [a.json["id"] for a in answers if a.status_code == 201]
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json["duplicates"] == [{"id": won, "type": "lead", "reasons": ["email"], "score": 60}]
    assert total(bob) == 1
    hold = get_lead_store().client.get_item(
        TableName=get_lead_store().table,
        Key={k: {"S": v} for k, v in DuplicateClaimKeys.primary(bob.tenant_id, "email", "same@x.io").items()},
    )["Item"]
    assert int(hold["lead_id"]["N"]) == won


def test_a_rejecting_create_holds_its_keys_while_the_indexes_catch_up(bob, monkeypatch):
    first = create(bob, REJECT, first_name="Ann", email="ann@x.io", phone="+1 555 010 2030").json["id"]
    monkeypatch.setattr(LeadStore, "match_ids", lambda *_, **__: [])  # the indexes show nothing yet
    refused = create(bob, REJECT, first_name="Bo", email="ANN@x.io")
    assert refused.status_code == 409
    assert refused.json["duplicates"] == [{"id": first, "type": "lead", "reasons": ["email"], "score": 60}]
    # the hold's lead is gone (in the trash): the next rejecting create takes the hold over
    assert bob.delete(f"/leads/{first}").status_code == 200
    taken = create(bob, REJECT, first_name="Cy", email="ann@x.io")
    assert taken.status_code == 201
    # an allowing create holds nothing, and is not refused by a hold
    assert create(bob, first_name="Di", email="ann@x.io").status_code == 201
    assert total(bob) == 2


def test_on_duplicate_takes_allow_or_reject_only(bob):
    for value in ("bogus", "REJECT", "1"):
        refused = create(bob, {"on_duplicate": value}, first_name="Ann")
        assert refused.status_code == 422, value
        assert refused.json["errors"] == {
            "on_duplicate": ["The selected on duplicate is invalid. Allowed values: allow, reject."]
        }
    assert total(bob) == 0
    assert create(bob, {"on_duplicate": ""}, first_name="Ann").status_code == 201  # blank: allow
    assert bob.put("/leads/1", lead_body(), query={"on_duplicate": "x"}).status_code == 422
    assert bob.post("/leads/1/restore", query={"on_duplicate": "x"}).status_code == 422


def test_a_put_looks_only_when_a_match_key_changes(bob):
    create(bob, first_name="Bo", phone="+1 555 010 2030")
    lead = create(bob, first_name="Cy", phone="+1 555 010 2030", company="Acme").json["id"]
    same = {"first_name": "Cy", "email": None, "phone": "+1 555 010 2030", "company": "Acme"}
    kept = bob.put(f"/leads/{lead}", lead_body(**same, status="contacted"))
    assert kept.status_code == 200 and "X-Possible-Duplicates" not in kept.headers
    assert "Query" not in bob.last_cost["by_operation"]  # no match key changed: nothing looked for
    renamed = bob.put(f"/leads/{lead}", lead_body(**{**same, "first_name": "Cyd"}))
    assert renamed.headers["X-Possible-Duplicates"] == "1"
    assert bob.last_cost["by_operation"]["Query"] == 2  # the phone's, the name and company's


def test_reject_refuses_a_put_only_by_what_it_changes(bob):
    bo = create(bob, first_name="Bo", email="bo@x.io", phone="+1 555 010 2030").json["id"]
    cy = create(bob, first_name="Cy", phone="+1 555 010 2030").json["id"]
    # a new email nobody has: the phone duplicate was there before, the change goes in
    changed = bob.put(f"/leads/{cy}", lead_body(first_name="Cy", email="cy@x.io"), query=REJECT)
    assert changed.status_code == 200 and changed.headers["X-Possible-Duplicates"] == "1"
    refused = bob.put(f"/leads/{cy}", lead_body(first_name="Cy", email="BO@x.io"), query=REJECT)
    assert refused.status_code == 409
    assert refused.json["duplicates"] == [
        {"id": bo, "type": "lead", "reasons": ["email", "phone"], "score": 90}
    ]
    assert bob.get(f"/leads/{cy}").json["email"] == "cy@x.io"
    allowed = bob.put(f"/leads/{cy}", lead_body(first_name="Cy", email="BO@x.io"))
    assert allowed.status_code == 200 and allowed.headers["X-Possible-Duplicates"] == "1"


def test_a_restore_names_the_live_leads_it_duplicates_and_reject_keeps_it_in_the_trash(bob):
    gone = create(bob, first_name="Ann", email="ann@x.io", phone="+1 555 010 7777").json["id"]
    assert bob.delete(f"/leads/{gone}").status_code == 200
    live = create(bob, first_name="Bea", phone="1 555 010 7777").json["id"]
    refused = bob.post(f"/leads/{gone}/restore", query=REJECT)
    assert refused.status_code == 409
    assert refused.json["duplicates"] == [{"id": live, "type": "lead", "reasons": ["phone"], "score": 30}]
    assert [t["id"] for t in bob.get("/leads/trash").json["data"]] == [gone]
    assert bob.get(f"/leads/{gone}").status_code == 404
    restored = bob.post(f"/leads/{gone}/restore")
    assert restored.status_code == 200 and restored.headers["X-Possible-Duplicates"] == "1"
    assert restored.headers["Link"] == f'</leads/{gone}/duplicates>; rel="duplicates"'


def test_another_tenants_leads_are_never_duplicates(bob, other_tenant):
    create(other_tenant.as_user(2), first_name="Ann", email="shared@x.io")
    mine = create(bob, REJECT, first_name="Ann", email="shared@x.io")
    assert mine.status_code == 201 and "X-Possible-Duplicates" not in mine.headers


def test_the_openapi_document_lists_the_parameter_the_headers_and_the_409(gateway):
    document = gateway.get("/openapi.json").get_json()
    for path, method, success in (
        ("/leads", "post", "201"),
        ("/leads/{id}", "put", "200"),
        ("/leads/{id}/restore", "post", "200"),
    ):
        operation = document["paths"][path][method]
        (parameter,) = [p for p in operation["parameters"] if p["name"] == "on_duplicate"]
        assert (parameter["in"] == "query" and "required" not in parameter) or not parameter["required"]
        assert "reject" in json.dumps(parameter["schema"]) and "allow" in json.dumps(parameter["schema"])
        assert set(operation["responses"][success]["headers"]) == {"X-Possible-Duplicates", "Link"}
        conflict = operation["responses"]["409"]["content"]["application/json"]["schema"]
        assert conflict == {"$ref": "#/components/schemas/DuplicateConflictBody"}
    body = document["components"]["schemas"]["DuplicateConflictBody"]
    assert set(body["properties"]) == {"message", "duplicates"} and body["required"] == ["message"]


def test_a_rejecting_create_that_lost_the_id_and_the_keys_to_one_create_gets_the_409_naming_it(
    bob, monkeypatch
):
    # Two rejecting creates read the same sequence: the loser's transaction fails on the id and on
    # the hold at once (DynamoDB reports every failed condition). The hold names the winner, whose
    # id is the loser's tentative one: it is another lead, not the loser's own.
    stats = get_lead_store().stats_with_user(bob.tenant_id, None)
    first = create(bob, REJECT, first_name="Ann", email="ann@x.io").json["id"]
    monkeypatch.setattr(LeadStore, "match_ids", lambda *_, **__: [])  # the indexes show nothing yet
    monkeypatch.setattr(LeadStore, "stats_with_user", lambda *_, **__: stats)  # read before the first
    refused = create(bob, REJECT, first_name="Bo", email="ANN@x.io")
    assert refused.status_code == 409
    assert refused.json["duplicates"] == [{"id": first, "type": "lead", "reasons": ["email"], "score": 60}]
    assert total(bob) == 1


def test_reject_refuses_a_put_by_what_it_changes_even_behind_fifty_better_duplicates(bob):
    # 50 leads share the lead's phone (score 30 each): a new name and company shared with one more
    # lead (score 25) ranks 51st among the lead's duplicates, and still refuses the change.
    for n in range(50):
        create(bob, first_name=f"P{n}", phone="+1 555 010 2030")
    same = create(bob, first_name="Ann", last_name="Lee", company="Lee Ltd").json["id"]
    lead = create(bob, first_name="Cy", last_name="Lee", phone="+1 555 010 2030").json["id"]
    refused = bob.put(
        f"/leads/{lead}",
        lead_body(first_name="Ann", last_name="Lee", email=None, phone="+1 555 010 2030", company="LEE"),
        query=REJECT,
    )
    assert refused.status_code == 409
    assert refused.json["duplicates"] == [
        {"id": same, "type": "lead", "reasons": ["name_company"], "score": 25}
    ]
    assert bob.get(f"/leads/{lead}").json["first_name"] == "Cy"


def test_a_contact_found_by_email_counts_a_same_phone_as_get_duplicates_does(bob):
    # GET /leads/{id}/duplicates counts a contact's same phone once its email found it; the 409
    # names it with the same reasons and score, and a PUT putting that phone in place is refused.
    ann = create(bob, first_name="Ann", email="ann@x.io", phone="+1 555 010 2030").json["id"]
    contact = bob.post(f"/leads/{ann}/qualify", {}).json["contact_id"]
    lead = create(bob, first_name="Bo", email="ANN@x.io").json["id"]
    listed = bob.get(f"/leads/{lead}/duplicates").json["data"]
    assert {"id": contact, "type": "contact", "reasons": ["email"], "score": 60}.items() <= next(
        d for d in listed if d["type"] == "contact"
    ).items()
    refused = bob.put(
        f"/leads/{lead}", lead_body(first_name="Bo", email="ANN@x.io", phone="15550102030"), query=REJECT
    )
    assert refused.status_code == 409
    assert {"id": contact, "type": "contact", "reasons": ["email", "phone"], "score": 90} in refused.json[
        "duplicates"
    ]
    assert bob.get(f"/leads/{lead}").json["phone"] is None


def test_the_link_keeps_the_stage_and_cors_exposes_both_headers(emulator, bob):
    """On API Gateway's own domain the path has the stage first (`/dev/leads`)."""
    create(bob, first_name="Ann", email="imogen.quarry@example.org")
    event = json.loads((REPO_ROOT / "events" / "leads" / "create_reject_duplicates.json").read_text())
    event["queryStringParameters"] = event["multiValueQueryStringParameters"] = None
    event["headers"]["Authorization"] = f"Bearer {bob.token}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {bob.token}"]
    event["headers"]["Origin"] = "https://crm.example.com"
    event["multiValueHeaders"]["Origin"] = ["https://crm.example.com"]
    answer = LambdaFunction(emulator.template.function("LeadsFunction")).invoke(event)
    assert answer["statusCode"] == 201, answer
    headers = {
        **(answer.get("headers") or {}),
        **{k: v[0] for k, v in (answer.get("multiValueHeaders") or {}).items()},
    }
    lead_id = json.loads(answer["body"])["id"]
    assert headers["X-Possible-Duplicates"] == "1"
    assert headers["Link"] == f'</dev/leads/{lead_id}/duplicates>; rel="duplicates"'
    exposed = {h.strip() for h in headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-Possible-Duplicates", "Link", "ETag"} <= exposed


def test_a_hold_whose_lead_was_merged_away_blocks_no_create(bob, monkeypatch):
    held = create(bob, REJECT, first_name="Ann", email="ann@x.io").json["id"]
    survivor = create(bob, first_name="Bea", email="bea@x.io").json["id"]
    merged = bob.post(f"/leads/{survivor}/merge", {"merge_ids": [held]})
    assert merged.status_code == 200, merged.json
    assert bob.get(f"/leads/{survivor}").json["email"] == "bea@x.io"  # the survivor kept its own
    monkeypatch.setattr(LeadStore, "match_ids", lambda *_, **__: [])  # the indexes show nothing yet
    taken = create(bob, REJECT, first_name="Cy", email="ANN@x.io")
    assert taken.status_code == 201, taken.json
    hold = get_lead_store().client.get_item(
        TableName=get_lead_store().table,
        Key={k: {"S": v} for k, v in DuplicateClaimKeys.primary(bob.tenant_id, "email", "ann@x.io").items()},
    )["Item"]
    assert int(hold["lead_id"]["N"]) == taken.json["id"]
