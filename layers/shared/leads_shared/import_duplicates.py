"""Which lead of the tenant has an email already: the import's dedupe against the tenant.

Reading what a file's rows need, never the tenant's leads: each email the file holds is looked
up in the LOOKUP index (one Query, its leads only, at most 2 items), the index a lead's own
transactions keep (``GET /leads/{id}/duplicates`` and ``on_duplicate=reject`` read it too). A
100-row file costs about 100 small reads in a tenant of any size, and a file of *n* emails about
*n*, however small the tenant. (A Query has no batch form: BatchGetItem reads table keys, not an
index's, so a chunk's lookups cannot share a request.) An empty tenant needs none: the tenant's
counters, read once, say so.

The index is eventually consistent: a lead created a moment before the import may be missed as a
duplicate (docs/behaviour.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leads_shared.keys import LeadStatsKeys

if TYPE_CHECKING:
    from leads_shared.data.lead_store import LeadStore


class TenantEmails:
    """The tenant's leads by email (lower-cased), leaving out the import's own leads
    (``besides``: its reserved ids, which a resumed import finds written already)."""

    def __init__(self, store: LeadStore, tenant_id: str, besides: range) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._besides = besides
        self._empty = store.stats(tenant_id).count(LeadStatsKeys.TOTAL) == 0
        self._lookups = 0

    @property
    def lookups(self) -> int:
        """LOOKUP Queries made so far."""
        return self._lookups

    def lead_with(self, email: str) -> int | None:
        """The id of the tenant's oldest lead with ``email`` (lower-cased), or None."""
        if self._empty:
            return None  # nothing to find (a lead created meanwhile is missed, as above)
        self._lookups += 1
        return self._store.id_with_email(self._tenant_id, email, besides=self._besides)
