"""Which lead of the tenant has an email already: the import's dedupe against the tenant.

Reading what a file's rows need, not the whole tenant: each email the file holds is looked up in
the LOOKUP index (one Query, at most 2 items), so a 100-row file costs about 100 small reads in
a tenant of any size. A big file in a small tenant would pay more for its lookups than for
reading the tenant's narrow list once (a lookup costs what ~20 narrow rows of ~200 bytes do: a
4 KB read unit), so once the lookups made would cost as much as that list, the rest of the
file is answered from the list, read once. Either way the reads are bounded by the file: at
most about twice the cheaper of the two (``LIST_ROWS_PER_LOOKUP`` rows per email looked up).

Both indexes are eventually consistent: a lead created a moment before the import may be missed
as a duplicate (docs/behaviour.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leads_shared.keys import LeadStatsKeys

if TYPE_CHECKING:
    from leads_shared.data.lead_store import LeadStore

# Narrow LIST rows (~200 bytes) that cost one read unit (4 KB), as one lookup does.
LIST_ROWS_PER_LOOKUP = 20


class TenantEmails:
    """The tenant's leads by email (lower-cased), leaving out the import's own leads
    (``besides``: its reserved ids, which a resumed import finds written already)."""

    def __init__(self, store: LeadStore, tenant_id: str, besides: range) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._besides = besides
        self._tenant_leads = store.stats(tenant_id).count(LeadStatsKeys.TOTAL)
        self._lookups = 0
        self._listed: dict[str, int] | None = None

    @property
    def lookups(self) -> int:
        """LOOKUP Queries made so far."""
        return self._lookups

    @property
    def listed(self) -> bool:
        """Whether the tenant's narrow list was read (and answers from now on)."""
        return self._listed is not None

    def lead_with(self, email: str) -> int | None:
        """The id of the tenant's oldest lead with ``email`` (lower-cased), or None."""
        if self._listed is None and (self._lookups + 1) * LIST_ROWS_PER_LOOKUP > self._tenant_leads:
            if self._tenant_leads == 0:
                return None  # nothing to find (a lead created meanwhile is missed, as above)
            self._listed = self._store.ids_by_email(self._tenant_id, besides=self._besides)
        if self._listed is not None:
            return self._listed.get(email)
        self._lookups += 1
        return self._store.id_with_email(self._tenant_id, email, besides=self._besides)
