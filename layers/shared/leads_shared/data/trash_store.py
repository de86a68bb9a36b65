"""DynamoDB access for the recycle bin (``TrashKeys``).

A lead's delete moves the lead item to its partition's ``TRASH`` item in one transaction with
what every delete did before: its index entries deleted, its counters down, and its history's
``deleted`` entry. Its notes, tasks, email links and history stay where they are, so a restore
(the reverse transaction) brings them back as they were. Nothing reads ``TRASH`` but the recycle
bin: every other route reads ``LEAD`` and finds nothing, and every child write checks ``LEAD`` in
its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from leads_shared.data.dynamo import TableStore, av, store_errors, stored_values, to_item
from leads_shared.data.history_items import history_write
from leads_shared.data.index_pages import index_pages
from leads_shared.data.lead_counters import counter_deltas, stats_update
from leads_shared.data.lead_entries import entry_writes
from leads_shared.data.lead_store import lead_to_item
from leads_shared.data.writes import ConditionFailed, VersionConflict, delete_if_version, transient_retries
from leads_shared.keys import LeadKeys, TrashKeys
from leads_shared.models.leads import Lead, TrashedLead

if TYPE_CHECKING:
    from leads_shared.models.history import HistoryEntry

# The ``entity`` of a trashed lead's item (the stream's filter for TTL removals matches it).
TRASHED_ENTITY = "trashed_lead"
_NEW = "attribute_not_exists(PK)"
_TRASH_FIELDS = ("deleted_at", "deleted_by", "expires_at")


class NotInTrash(Exception):
    """The lead is not (or no longer) in the recycle bin: restored, removed, or never deleted."""


def trashed_to_item(trashed: TrashedLead) -> dict[str, Any]:
    lead = trashed.lead
    return to_item(
        {
            **lead.model_dump(),
            **{name: getattr(trashed, name) for name in _TRASH_FIELDS},
            **TrashKeys.all_keys(lead.tenant_id, lead.id, trashed.deleted_at, trashed.deleted_by),
            "entity": TRASHED_ENTITY,
        }
    )


def trashed_from_item(item: dict[str, Any]) -> TrashedLead:
    values = stored_values(item)
    trash = {name: values.pop(name) for name in _TRASH_FIELDS}
    values.pop("entity", None)
    return TrashedLead(lead=Lead.model_validate(values), **trash)


class TrashStore(TableStore):
    def trash(self, lead: Lead, trashed: TrashedLead, change: HistoryEntry) -> None:
        """One transaction: the lead item goes (if its version is still ``lead.version``:
        ``VersionConflict`` otherwise) with its index entries and its counts, its trashed item
        takes its place, and its history records the ``change``. Its children are not touched."""
        delete = delete_if_version(
            self.table, to_item(LeadKeys.primary(lead.tenant_id, lead.id)), lead.version
        )
        put = {"TableName": self.table, "Item": trashed_to_item(trashed), "ConditionExpression": _NEW}
        try:
            self._swap(delete, put, lead, change, restoring=False)
        except ConditionFailed as failed:
            raise VersionConflict() from failed

    def trashed(self, tenant_id: str, lead_id: int) -> TrashedLead | None:
        """The lead's trashed item (consistent), or None."""
        with store_errors():
            response = self.client.get_item(
                TableName=self.table, Key=to_item(TrashKeys.primary(tenant_id, lead_id)), ConsistentRead=True
            )
        item = response.get("Item")
        return trashed_from_item(item) if item else None

    def restore(self, trashed: TrashedLead, lead: Lead, change: HistoryEntry) -> None:
        """One transaction, the reverse of ``trash``: ``lead`` written back with its index entries,
        its counts and its history's ``change``, on condition that the trashed item is still the
        one read (its version and its expiry: ``NotInTrash`` otherwise), and the trashed item
        removed."""
        before = trashed.lead
        delete = {
            "TableName": self.table,
            "Key": to_item(TrashKeys.primary(before.tenant_id, before.id)),
            "ConditionExpression": "version = :version AND expires_at = :expires",
            "ExpressionAttributeValues": {":version": av(before.version), ":expires": av(trashed.expires_at)},
        }
        put = {"TableName": self.table, "Item": lead_to_item(lead), "ConditionExpression": _NEW}
        try:
            self._swap(delete, put, lead, change, restoring=True)
        except ConditionFailed as failed:
            raise NotInTrash() from failed

    def _swap(
        self,
        delete: dict[str, Any],
        put: dict[str, Any],
        lead: Lead,
        change: HistoryEntry,
        *,
        restoring: bool,
    ) -> None:
        """One transaction: ``delete`` and ``put`` (the lead item and its trashed item, one for the
        other) with the lead's index entries and counts, gone or (``restoring``) back, and the
        ``change`` recorded."""
        before, after = (None, lead) if restoring else (lead, None)
        items = [
            {"Delete": delete},
            {"Put": put},
            *entry_writes(self.table, before, after),
            {"Update": stats_update(self.table, lead.tenant_id, counter_deltas(before, after))},
            history_write(self.table, change),
        ]
        transient_retries(lambda: self.transact(items))

    def page(
        self, tenant_id: str, deleted_by: int | None, *, count: int, after: tuple[str, int] | None
    ) -> tuple[list[TrashedLead], bool]:
        """Up to ``count`` trashed leads of the tenant (or those ``deleted_by`` one user), newest
        first, after the position ``after`` (its sort key and lead id), and whether more follow
        (one item read ahead)."""
        if deleted_by is None:
            partition = TrashKeys.of_tenant(tenant_id)
        else:
            partition = TrashKeys.of_deleter(tenant_id, deleted_by)
        start = None
        if after is not None:
            sort_key, lead_id = after
            start = partition.start_after(TrashKeys.primary(tenant_id, lead_id), sort_key)
        pages = index_pages(self.client, self.table, partition, forward=False, count=count + 1, start=start)
        found = [trashed_from_item(item) for page in pages for item in page]
        return found[:count], len(found) > count

    def purge(self, tenant_id: str, lead_id: int, children: Sequence[dict[str, str]]) -> None:
        """Remove a trashed lead for good: its ``children`` (keys), then its trashed item (last: a
        purge that dies half-way leaves the lead in the trash, and a retry finishes it)."""
        self.batch_delete([to_item(key) for key in children])
        with store_errors():
            self.client.delete_item(TableName=self.table, Key=to_item(TrashKeys.primary(tenant_id, lead_id)))
