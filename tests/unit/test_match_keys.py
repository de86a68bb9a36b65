"""What makes two leads look like the same person (``leads_shared.match_keys``) and how a
duplicate scores."""

from __future__ import annotations

import pytest

from leads_shared.match_keys import email_key, match_keys, name_company_key, phone_key, score, shared_kinds


@pytest.mark.parametrize(
    "typed", ["+1 (555) 010-2030", "15550102030", "1-555-010-2030", "001 555 010 2030", "+1.555.010.2030"]
)
def test_a_phone_is_its_digits_with_the_country_code_as_typed(typed):
    assert phone_key(typed) == "15550102030"


def test_a_phone_without_country_code_or_too_short_is_not_guessed():
    assert phone_key("(555) 010-2030") == "5550102030"
    assert phone_key("ext. 123") is None and phone_key("") is None and phone_key(None) is None


def test_an_email_is_trimmed_and_lower_cased():
    assert email_key("  Ann@Example.COM ") == "ann@example.com"
    assert email_key(None) is None


def test_name_and_company_fold_case_accents_punctuation_and_legal_suffixes():
    assert name_company_key("José", "Núñez", "ACME, Inc.") == name_company_key("jose", "nunez", "Acme")
    assert name_company_key("José", "Núñez", "ACME, Inc.") == "jose nunez#acme"
    assert name_company_key("Mary-Jane", "O'Neil", "Ben & Jerry's Ltd") == "mary jane oneil#ben and jerrys"
    assert name_company_key("José", "Núñez", None) is None
    assert name_company_key("José", "Núñez", "...") is None


def test_reasons_and_scores():
    ours = match_keys("Ann", "Lee", "ann@x.io", "+1 555 010 2030", "Lee Ltd")
    theirs = match_keys("ann", "LEE", "ANN@x.io", "15550102030", "Lee")
    assert shared_kinds(ours, theirs) == ["email", "phone", "name_company"]
    assert score(shared_kinds(ours, theirs)) == 100
    assert score(["email"]) == 60 and score(["phone"]) == 30 and score(["name_company"]) == 25
    assert score(["phone", "name_company"]) == 55
    assert shared_kinds(ours, match_keys("Bo", "Lee", None, None, None)) == []
