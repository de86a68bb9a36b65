"""What a search finds: word prefixes of names, company, email parts and phone digits, any case
and accent, every term (``leads_shared.search_tokens``)."""

from __future__ import annotations

import pytest

from leads_shared.models.leads import Lead
from leads_shared.search_tokens import MAX_TOKENS, lead_tokens, matches, search_terms

NOW = "2026-01-15T09:30:00.000000Z"


def lead(**fields) -> Lead:
    base = dict(tenant_id="acme", id=1, first_name="John", last_name="Doe", created_at=NOW, updated_at=NOW)
    return Lead(**{**base, **fields})


def finds(search: str, one: Lead) -> bool:
    terms = search_terms(search)
    return terms is not None and matches(one, terms)


JOHN = lead(email="john.doe+crm@Acme-Corp.io", company="Doe Industries", phone="+1 (555) 123-4567")


@pytest.mark.parametrize(
    "search",
    [
        "doe",  # last name, company word, email piece
        "DOE",
        "jo",
        "jo do",  # several terms, each a prefix
        "john doe",
        "john.doe+crm@acme-corp.io",  # the email whole
        "john.doe",  # its local part
        "crm",  # a piece of the local part
        "acme-corp.io",  # the domain
        "acme",  # the domain starts so
        "indus",  # a company word's prefix
        "15551234567",  # the phone's digits
        "4567",  # their last 4
        "1234567",  # their last 7
    ],
)
def test_a_lead_is_found_by_prefixes_of_its_words(search):
    assert finds(search, JOHN)


@pytest.mark.parametrize(
    "search",
    [
        "oe",  # inside a word, not a prefix: today's substring search found it, this does not
        "doe x",  # every term must match
        "555",  # the phone's digits start with the country code
        "corp",  # inside the domain
        "@",  # no letter or digit: nothing
        "- -",
    ],
)
def test_a_lead_is_not_found_by_what_is_not_a_prefix(search):
    assert not finds(search, JOHN)


def test_case_and_accents_do_not_matter():
    emile = lead(first_name="Émile", last_name="Zoë", company="Crème Brûlée SA")
    for search in ("emile", "ÉMILE", "zoe", "creme brulee", "Crème", "brû"):
        assert finds(search, emile), search
    assert not finds("emilie", emile)


def test_a_search_of_an_email_finds_the_lead_with_it():
    doe = lead(first_name="Jane", last_name="Roe", email="doe@x.io")
    assert finds("doe@x.io", doe)
    assert finds("doe", doe)
    assert not finds("doe@y", doe)


def test_punctuated_words_are_found_whole_and_by_their_pieces():
    oneil = lead(first_name="Mary", last_name="O'Neil")
    assert finds("o'neil", oneil) and finds("neil", oneil) and finds("o'ne", oneil)


def test_a_term_without_letters_or_digits_matches_nothing():
    assert search_terms("!!") is None
    assert search_terms("doe !!") is None
    assert search_terms("  Doe   doe ") == ["doe"]


def test_a_lead_has_at_most_max_tokens():
    many = lead(company=" ".join(f"word{i}" for i in range(40)))
    tokens = lead_tokens(many)
    assert len(tokens) == MAX_TOKENS == len(set(tokens))
    assert tokens[:2] == ["john", "doe"]  # names come first
