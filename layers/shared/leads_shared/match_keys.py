"""What makes two leads (or a lead and a contact) look like the same person: their match keys.

- ``email``: the address trimmed and lower-cased (the LOOKUP index's rule: a lead's and a
  contact's own LOOKUP key is their email match entry).
- ``phone``: its digits only, an international ``00`` prefix read as ``+``. A leading country
  code is kept as typed and none is guessed: "+1 (555) 010-2030", "1-555-010-2030" and
  "15550102030" match one another; "(555) 010-2030" (no country code) matches only numbers typed
  without one. Fewer than ``MIN_PHONE_DIGITS`` digits is no key (an extension, a typo).
- ``name_company``: the first and last name folded (case, accents, punctuation:
  ``company_names.folded_words``) with the company as match-company folds it (legal suffixes
  too): "José Núñez" at "ACME, Inc." is "jose nunez" at "Acme". Only when the lead has a company
  (a name alone is too common to say "the same person").

A lead's phone and name keys are index entries (``lead_entries``); its email is found through
LOOKUP. Each matching kind scores ``SCORES[kind]``, summed and capped at ``MAX_SCORE``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leads_shared.company_names import folded_words, normalise_company_name

if TYPE_CHECKING:
    from leads_shared.models.leads import Lead

KINDS = ("email", "phone", "name_company")
# The kinds with an index entry of their own (email: the LOOKUP key of the lead item).
ENTRY_KINDS = ("phone", "name_company")
SCORES = {"email": 60, "phone": 30, "name_company": 25}
MAX_SCORE = 100
MIN_PHONE_DIGITS = 7
# Characters kept of the folded name and of the folded company (a partition key holds 2,048
# bytes: two parts of 200 characters are at most 1,600 in UTF-8).
NAME_KEY_CHARS = 200


def email_key(email: str | None) -> str | None:
    address = (email or "").strip().lower()
    return address or None


def phone_key(phone: str | None) -> str | None:
    digits = "".join(ch for ch in (phone or "") if ch.isascii() and ch.isdigit())
    if digits.startswith("00"):
        digits = digits[2:]
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def name_company_key(first_name: str, last_name: str, company: str | None) -> str | None:
    name = " ".join(folded_words(f"{first_name} {last_name}"))[:NAME_KEY_CHARS]
    folded_company = normalise_company_name(company or "")[:NAME_KEY_CHARS]
    if not name or not folded_company:
        return None
    # "#" cannot be in either part: folding turned punctuation into spaces.
    return f"{name}#{folded_company}"


def match_keys(
    first_name: str, last_name: str, email: str | None, phone: str | None, company: str | None
) -> dict[str, str]:
    """The match keys a person's fields have, by kind (a kind without a value has none)."""
    found = {
        "email": email_key(email),
        "phone": phone_key(phone),
        "name_company": name_company_key(first_name, last_name, company),
    }
    return {kind: value for kind, value in found.items() if value is not None}


def lead_match_keys(lead: Lead) -> dict[str, str]:
    return match_keys(lead.first_name, lead.last_name, lead.email, lead.phone, lead.company)


def shared_kinds(ours: dict[str, str], theirs: dict[str, str]) -> list[str]:
    """The kinds whose keys are the same on both sides, in ``KINDS`` order."""
    return [kind for kind in KINDS if kind in ours and ours[kind] == theirs.get(kind)]


def score(kinds: list[str]) -> int:
    return min(MAX_SCORE, sum(SCORES[kind] for kind in kinds))
