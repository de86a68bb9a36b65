"""GET /leads/match-company and /leads/match-contact: what a lead may already be in the CRM."""

from __future__ import annotations

import pytest

from tests.support.clients import lead_body

COMPANY_MATCH_FIELDS = {
    "id",
    "name",
    "owner_id",
    "owner_name",
    "lead_id",
    "created_at",
    "updated_at",
    "match",
}
CONTACT_MATCH_FIELDS = {"type", "id", "first_name", "last_name", "email", "phone", "job_title", "company",
                        "company_id", "status"}  # fmt: skip


def company(caller, name: str, **fields) -> dict:
    """A company of the caller's tenant, made the only way there is: qualifying a lead."""
    lead_id = caller.post("/leads", lead_body(company=name, **fields)).json["id"]
    result = caller.post(f"/leads/{lead_id}/qualify", {"create_company": True})
    assert result.status_code == 200, result.json
    return {"id": result.json["company_id"], "lead_id": lead_id, "contact_id": result.json["contact_id"]}


def match_company(caller, name: str) -> list[tuple[str, str]]:
    response = caller.get("/leads/match-company", query={"company": name})
    assert response.status_code == 200, response.json
    return [(m["name"], m["match"]) for m in response.json["data"]]


def test_a_match_has_the_company_fields_and_costs_one_query(bob):
    made = company(bob, "ACME, Inc.", assigned_to=3)
    response = bob.get("/leads/match-company", query={"company": "Acme LLC"})
    assert response.status_code == 200
    assert bob.last_cost["by_operation"] == {"Query": 1}
    (match,) = response.json["data"]
    assert set(match) == COMPANY_MATCH_FIELDS
    assert (match["id"], match["name"], match["lead_id"]) == (made["id"], "ACME, Inc.", made["lead_id"])
    assert (match["owner_id"], match["owner_name"], match["match"]) == (3, "Carol Chen", "exact")


@pytest.mark.parametrize(
    "query", ["ACME, Inc.", "acme llc", "  Acme   ", "ACME", "Ácmé Corp.", "acme, ltd.", "a.c.m.e"]
)
def test_case_punctuation_spaces_accents_and_legal_suffixes_are_ignored(bob, query):
    company(bob, "Acme LLC")
    assert match_company(bob, query) == [("Acme LLC", "exact")]


def test_accented_multi_word_names(bob):
    company(bob, "Société  Générale S.A.")
    assert match_company(bob, "societe generale") == [("Société  Générale S.A.", "exact")]
    assert match_company(bob, "SOCIÉTÉ GÉN") == [("Société  Générale S.A.", "prefix")]


def test_exact_first_then_prefix_matches_shortest_first(bob):
    for name in ("Acme Widgets International", "Acmeville", "Globex", "acme inc.", "Acme Rockets", "Ac"):
        company(bob, name)
    assert match_company(bob, "ACME") == [
        ("acme inc.", "exact"),
        ("Acmeville", "prefix"),
        ("Acme Rockets", "prefix"),
        ("Acme Widgets International", "prefix"),
    ]
    assert match_company(bob, "acme rock") == [("Acme Rockets", "prefix")]
    assert match_company(bob, "Acme Rockets Ltd") == [("Acme Rockets", "exact")]
    assert match_company(bob, "Initech") == []


def test_the_exact_match_survives_many_prefix_matches(bob):
    for i in range(21):
        company(bob, f"Acme {i:02d}")
    company(bob, "Acme")
    found = match_company(bob, "acme")
    assert found[0] == ("Acme", "exact")
    assert len(found) == 20 and all(kind == "prefix" for _, kind in found[1:])


def test_the_shortest_prefix_matches_are_the_ones_kept_when_there_are_many(bob):
    for i in range(20):
        company(bob, f"Acme Amalgamated Holdings {i:02d}")
    company(bob, "Acme Zed")
    found = match_company(bob, "acme")
    assert len(found) == 20
    assert found[0] == ("Acme Zed", "prefix")  # the shortest, closest name


def test_ampersands_and_apostrophes(bob):
    company(bob, "Ben & Jerry's")
    assert match_company(bob, "ben and jerrys") == [("Ben & Jerry's", "exact")]
    assert match_company(bob, "BEN & JERRY\u2019S, INC") == [("Ben & Jerry's", "exact")]


def test_only_companies_created_by_qualifying_count(bob):
    bob.post("/leads", lead_body(company="Hooli"))  # a lead's company text is not a company
    lead_id = bob.post("/leads", lead_body(company="Hooli Labs")).json["id"]
    assert bob.post(f"/leads/{lead_id}/qualify", {}).status_code == 200  # contact only
    assert match_company(bob, "Hooli") == []
    company(bob, "Hooli XYZ")
    assert match_company(bob, "Hooli") == [("Hooli XYZ", "prefix")]


def test_another_tenants_companies_never_appear(bob, other_tenant):
    company(other_tenant.as_user(2), "Acme")
    assert match_company(bob, "Acme") == []
    company(bob, "Acme Corp")
    response = other_tenant.as_user(1).get("/leads/match-company", query={"company": "acme"})
    assert [(m["name"], m["match"]) for m in response.json["data"]] == [("Acme", "exact")]


@pytest.mark.parametrize("query", [{}, {"company": ""}, {"company": "   "}])
def test_missing_or_blank_company_is_422(bob, query):
    company(bob, "Acme")
    response = bob.get("/leads/match-company", query=query)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["company"]
    assert bob.last_cost["requests"] == 0


@pytest.mark.parametrize("name", ["!!! ...", "=\x05", "-"])
def test_a_name_without_letters_or_digits_matches_nothing(bob, name):
    """The document allows any non-blank name; with nothing left to compare, no company matches."""
    company(bob, "Acme")
    response = bob.get("/leads/match-company", query={"company": name})
    assert response.status_code == 200 and response.json == {"data": []}
    assert bob.last_cost["requests"] == 0


# ------------------------------------------------------------------ match-contact
def test_contacts_first_then_leads_by_email_in_any_case(bob):
    made = company(bob, "Acme", email="John.Doe@Example.com", phone="+1 555", job_title="CTO")
    newer = bob.post("/leads", lead_body(email="JOHN.DOE@example.COM", first_name="Johnny")).json
    bob.post("/leads", lead_body(email="someone.else@example.com"))
    response = bob.get("/leads/match-contact", query={"email": "john.doe@EXAMPLE.com"})
    assert response.status_code == 200
    assert bob.last_cost["by_operation"] == {"Query": 1}
    found = response.json["data"]
    assert all(set(m) == CONTACT_MATCH_FIELDS for m in found)
    assert [(m["type"], m["id"]) for m in found] == [
        ("contact", made["contact_id"]),
        ("lead", made["lead_id"]),
        ("lead", newer["id"]),
    ]
    contact, qualified, lead = found
    assert (contact["first_name"], contact["job_title"], contact["company_id"]) == ("John", "CTO", made["id"])
    assert (qualified["status"], qualified["company"]) == ("qualified", "Acme")
    assert (lead["first_name"], lead["status"], lead["company"]) == ("Johnny", "new", None)


def test_unknown_email_matches_nothing(bob):
    bob.post("/leads", lead_body(email="a@example.com"))
    response = bob.get("/leads/match-contact", query={"email": "b@example.com"})
    assert response.status_code == 200 and response.json == {"data": []}


def test_another_tenants_contacts_and_leads_never_appear(bob, other_tenant):
    company(other_tenant.as_user(2), "Acme", email="shared@example.com")
    assert bob.get("/leads/match-contact", query={"email": "shared@example.com"}).json == {"data": []}
    bob.post("/leads", lead_body(email="shared@example.com"))
    mine = bob.get("/leads/match-contact", query={"email": "shared@example.com"}).json["data"]
    assert [(m["type"], m["id"]) for m in mine] == [("lead", 1)]


@pytest.mark.parametrize("query", [{}, {"email": ""}, {"email": "  "}])
def test_missing_or_blank_email_is_422(bob, query):
    bob.post("/leads", lead_body())
    response = bob.get("/leads/match-contact", query=query)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["email"]
    assert bob.last_cost["requests"] == 0
