"""Find the company or contact a lead may already be: index lookups, never scans."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leads_shared.company_names import normalise_company_name
from leads_shared.models.records import CompanyMatch, ContactMatch

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.record_store import RecordStore

# At most this many matches are answered; company matching ranks the first CANDIDATES of the
# index (short names match many companies: the read stays bounded).
MATCH_LIMIT = 20
CANDIDATES = 200


def match_company(principal: Principal, name: str, store: RecordStore) -> list[CompanyMatch]:
    """Companies whose name, ignoring case, accents, punctuation, extra spaces and legal
    suffixes, is ``name`` (``exact``) or starts with it (``prefix``); exact first, then the
    closest (shortest) names, among the first 200 by name. One Query of the LOOKUP index."""
    wanted = normalise_company_name(name)
    if not wanted:  # only punctuation or a legal suffix ("Inc."): no company name to match
        return []
    found = store.companies_named(principal.tenant_id, wanted, CANDIDATES)
    matches = []
    for company in found:
        exact = normalise_company_name(company.name) == wanted
        values = company.model_dump(exclude={"tenant_id"})
        matches.append(CompanyMatch(**values, match="exact" if exact else "prefix"))
    return sorted(matches, key=lambda m: (m.match != "exact", len(m.name), m.id))[:MATCH_LIMIT]


def match_contact(principal: Principal, email: str, store: RecordStore) -> list[ContactMatch]:
    """Contacts, then leads, of the tenant with this email in any case. One Query."""
    rows = store.with_email(principal.tenant_id, email, MATCH_LIMIT)
    matches = [
        ContactMatch(
            type="contact" if row.get("entity") == "contact" else "lead",
            id=row["id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            email=row["email"],
            phone=row.get("phone"),
            job_title=row.get("job_title"),
            company=row.get("company"),
            company_id=row.get("company_id"),
            status=row.get("status"),
        )
        for row in rows
    ]
    return sorted(matches, key=lambda m: (m.type != "contact", m.id))
