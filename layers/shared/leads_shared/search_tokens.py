"""What ``GET /leads?search=`` matches: word prefixes, case- and accent-insensitively.

A lead is found by its tokens: each word of its first and last name and of its company (a word
as typed, between spaces, and the pieces of it made of letters and digits: "O'Neil" gives
"o'neil", "o" and "neil"), its email whole, the email's local part, the local part's pieces
(split at ``.`` ``_`` ``-`` ``+``) and its domain, and its phone's digits with their last 7
and last 4. A search is split at spaces into terms; a lead matches when **every** term is the
start of one of its tokens ("doe" finds "John Doe", "doe@x.io" and "Doe Industries"; "jo do"
finds "John Doe"). A term with no letter or digit matches nothing.

The SEARCH index holds one entry per token (``LeadIndexKeys.token_keys``), so a term is read as
the entries whose token starts with it: the cost grows with the matches, not with the tenant.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leads_shared.models.leads import Lead

# Tokens kept per lead (the first ones: names, then email, company, phone), and characters per
# token: what one lead may add to its write (each token is an index entry).
MAX_TOKENS = 16
MAX_TOKEN_CHARS = 100
_WORD = re.compile(r"[^\W_]+")
_LOCAL_PIECES = re.compile(r"[._\-+]+")


def normalise(text: str) -> str:
    """Case-folded, without accents ("Émile" → "emile"), spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def _words(text: str | None) -> list[str]:
    """The words of a name or company: each as typed, and its letter-and-digit pieces."""
    found: list[str] = []
    for word in normalise(text or "").split(" "):
        if word:
            found.append(word)
            found.extend(_WORD.findall(word))
    return found


def _email_tokens(email: str | None) -> list[str]:
    if not email:
        return []
    whole = normalise(email).replace(" ", "")
    local, _, domain = whole.rpartition("@")
    if not local:
        return [whole]
    return [whole, local, *_LOCAL_PIECES.split(local), domain]


def _phone_tokens(phone: str | None) -> list[str]:
    digits = "".join(c for c in (phone or "") if c.isdigit())
    if not digits:
        return []
    return [digits, digits[-7:], digits[-4:]]


def lead_tokens(lead: Lead) -> list[str]:
    """The tokens ``lead`` is found by, each once, at most ``MAX_TOKENS``."""
    candidates = [
        *_words(lead.first_name),
        *_words(lead.last_name),
        *_email_tokens(lead.email),
        *_words(lead.company),
        *_phone_tokens(lead.phone),
    ]
    tokens: dict[str, None] = {}
    for token in candidates:
        token = token[:MAX_TOKEN_CHARS]
        if token and _WORD.search(token):
            tokens.setdefault(token, None)
            if len(tokens) == MAX_TOKENS:
                break
    return list(tokens)


def search_terms(search: str) -> list[str] | None:
    """The terms of a search, each once (None: a term has no letter or digit, so nothing
    matches)."""
    terms = [term[:MAX_TOKEN_CHARS] for term in normalise(search).split(" ") if term]
    if not terms or any(not _WORD.search(term) for term in terms):
        return None
    return list(dict.fromkeys(terms))


def matches(lead: Lead, terms: list[str]) -> bool:
    """Whether every term starts one of the lead's tokens (what the index answered, checked
    on the lead itself: an entry older than the lead's last write cannot make a false match)."""
    tokens = lead_tokens(lead)
    return all(any(token.startswith(term) for token in tokens) for term in terms)
