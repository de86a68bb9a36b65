"""Company names compared the way people mean them: "ACME, Inc." is "Acme" is "acme  inc".

``normalise_company_name`` folds case and accents, turns punctuation into spaces, collapses
spaces and drops trailing legal suffixes (Inc, LLC, Ltd, GmbH, ...). Companies are indexed by
that form, so matching is a prefix Query, not a scan.
"""

from __future__ import annotations

import re
import unicodedata

LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "gmbh", "mbh", "ag", "kg",
        "corp", "corporation", "co", "company", "plc", "sa", "sas", "sarl", "srl", "spa", "bv",
        "nv", "oy", "ab", "as", "aps", "pty", "pte", "kk", "sl", "sro", "ug", "se",
    }
)  # fmt: skip
_NOT_WORD = re.compile(r"[\W_]+")


def folded_words(text: str) -> list[str]:
    """The lower-case words of ``text`` without accents or punctuation (what a company name and,
    for duplicates, a person's name are compared by)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    # "Ben & Jerry's" = "Ben and Jerrys", "S.A." = "SA": "&" is a word; apostrophes, dots are not breaks.
    plain = plain.replace("&", " and ").replace("'", "").replace("\u2019", "").replace(".", "")
    return _NOT_WORD.sub(" ", plain).split()


def normalise_company_name(name: str) -> str:
    """Lower-case words without accents, punctuation or legal suffixes, joined by one space.
    A name made only of suffixes ("Company Ltd") keeps its words rather than becoming empty."""
    core = folded_words(name)
    while len(core) > 1 and core[-1] in LEGAL_SUFFIXES:
        core.pop()
        if len(core) > 1 and core[-1] == "and":  # "Acme & Co." is "Acme"
            core.pop()
    return " ".join(core)
