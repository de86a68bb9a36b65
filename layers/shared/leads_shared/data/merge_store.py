"""DynamoDB access for merges (``MergeKeys``): a merge's three steps, and an undo's.

A merge's children can be more than a transaction holds (100 items), so it is written in
steps, each one transaction, recorded in the merge record (``MERGE#<id>`` in the survivor's
partition), and each safe to run again:

1. ``claim``: the merged-away leads' items become ``MERGED`` items (on condition that their
   versions are still the ones read), with their index entries deleted, their counts down and
   a ``merged`` history entry each; the survivor's version is checked (not changed); the record
   is written (``moving``). From here on nothing can be added to a merged-away lead (every child
   write checks its ``LEAD`` item), and the merge is certain to finish.
2. ``move_children``: each merged-away lead's notes, tasks and email links are copied into the
   survivor's partition (the copy keeps where it came from: ``moved_by``) and deleted where they
   were, 49 a transaction, each with a check that the record is still ``moving`` and each
   child's delete on condition that it is still as read (``ChildChanged`` otherwise). An email
   the survivor is linked to already (its own link, or one an earlier merged-away lead brought)
   is not copied; the merged-away lead's own link stays in its partition for an undo.
3. ``finish``: the survivor takes the chosen values (with its index entries, counts and a
   ``merged`` history entry) and the record becomes ``done``, in one transaction.

An undo is the same three steps backwards (``start_undo``, ``move_back``, ``finish_undo``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leads_shared.data.dynamo import TableStore, av, query_pages, store_errors, stored_values, to_item
from leads_shared.data.history_items import history_write, nested_numbers
from leads_shared.data.lead_counters import counter_deltas, stats_update
from leads_shared.data.lead_entries import entry_writes, merged_away_writes
from leads_shared.data.lead_store import lead_from_item, lead_to_item
from leads_shared.data.writes import ConditionFailed, delete_if_version, put_if_version, transient_retries
from leads_shared.keys import LeadKeys, MergeKeys
from leads_shared.models.leads import Lead
from leads_shared.models.merges import MergeRecord

if TYPE_CHECKING:
    from collections.abc import Sequence

    from leads_shared.models.history import HistoryEntry

MERGED_ENTITY = "merged_lead"
RECORD_ENTITY = "lead_merge"
# What moves with a merge: the children a lead's routes show (its history stays with it).
CHILD_PREFIXES = {LeadKeys.NOTE: "notes", LeadKeys.TASK: "tasks", LeadKeys.EMAIL: "emails"}
# A move's transaction: each child's copy (Put) and original (Delete), and the record's check.
CHILDREN_PER_MOVE = 49
# A moved child's trail: "<merge id>#<lead id it came from>", the latest merge last.
MOVED_BY = "moved_by"
_NEW = "attribute_not_exists(PK)"
_MERGE_FIELDS = ("merged_into", "merge_id", "merged_at")


class MergeRace(Exception):
    """A lead of the merge changed, or another merge or undo got there first: nothing written."""


class ChildChanged(Exception):
    """A child being moved changed or went since it was read (a task edited, a note deleted):
    nothing of its batch was written; read the children again."""


@dataclass(frozen=True)
class MergedLead:
    """A merged-away lead: the lead as it was, and where it went."""

    lead: Lead
    merged_into: int
    merge_id: str
    merged_at: str


@dataclass(frozen=True)
class LeadPartition:
    """What a merge reads of a lead's partition (one Query, ``EMAIL#`` to ``TASK#~``)."""

    lead: Lead | None
    merged: MergedLead | None
    children: list[dict[str, Any]]  # its notes, tasks and email links (stored items)
    records: list[MergeRecord]  # its merges as the survivor

    def count(self) -> dict[str, int]:
        """Its children by kind (``notes``, ``tasks``, ``emails``)."""
        counts = dict.fromkeys(CHILD_PREFIXES.values(), 0)
        for item in self.children:
            counts[child_kind(item["SK"]["S"])] += 1
        return counts


def email_links(children: Sequence[dict[str, Any]]) -> set[str]:
    """The email links among a partition's ``children`` (stored items): their sort keys, which
    name the email (the same in every lead's partition)."""
    return {item["SK"]["S"] for item in children if item["SK"]["S"].startswith(LeadKeys.EMAIL)}


def child_kind(sort_key: str) -> str:
    return next(kind for prefix, kind in CHILD_PREFIXES.items() if sort_key.startswith(prefix))


def merged_to_item(merged: MergedLead) -> dict[str, Any]:
    lead = merged.lead
    return to_item(
        {
            **lead.model_dump(),
            **{name: getattr(merged, name) for name in _MERGE_FIELDS},
            **MergeKeys.merged(lead.tenant_id, lead.id),
            "entity": MERGED_ENTITY,
        }
    )


def merged_from_item(item: dict[str, Any]) -> MergedLead:
    values = stored_values(item)
    where = {name: values.pop(name) for name in _MERGE_FIELDS}
    values.pop("entity", None)
    return MergedLead(lead=Lead.model_validate(values), **where)


def record_to_item(record: MergeRecord) -> dict[str, Any]:
    keys = MergeKeys.record(record.tenant_id, record.survivor_id, record.merge_id)
    return to_item({**record.model_dump(), **keys, "entity": RECORD_ENTITY})


def record_from_item(item: dict[str, Any]) -> MergeRecord:
    values = nested_numbers(stored_values(item))
    values.pop("entity", None)
    return MergeRecord.model_validate(values)


def _moved_copy(item: dict[str, Any], to_lead: int, trail: list[str]) -> dict[str, Any]:
    """A child's item in another lead's partition, with its trail of merges."""
    tenant_id = item["tenant_id"]["S"]
    copy = {**item, "PK": {"S": LeadKeys.pk(tenant_id, to_lead)}, "lead_id": av(to_lead)}
    if trail:
        copy[MOVED_BY] = {"L": [{"S": step} for step in trail]}
    else:
        copy.pop(MOVED_BY, None)
    return copy


def trail_of(item: dict[str, Any]) -> list[str]:
    return [step["S"] for step in item.get(MOVED_BY, {}).get("L", [])]


def moved_by(item: dict[str, Any], merge_id: str) -> int | None:
    """The lead a child of a survivor came from when ``merge_id`` moved it there (None: it did not)."""
    trail = trail_of(item)
    if trail and trail[-1].startswith(f"{merge_id}#"):
        return int(trail[-1].rsplit("#", 1)[1])
    return None


class MergeStore(TableStore):
    # ------------------------------------------------------------------ reads
    def partition(self, tenant_id: str, lead_id: int, *, with_children: bool = True) -> LeadPartition:
        """The lead (or its ``MERGED`` item), its children and its merge records: one Query (its
        pages), consistent, of ``EMAIL#`` to ``TASK#~`` (its index entries are read too; its
        history, which sorts first, is not). Without ``with_children``: ``LEAD`` to ``MERGED`` only
        (the lead, its merge records, its ``MERGED`` item)."""
        low, high = (
            (LeadKeys.EMAIL, f"{LeadKeys.TASK}~") if with_children else (LeadKeys.SK, MergeKeys.MERGED)
        )
        request = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":pk": av(LeadKeys.pk(tenant_id, lead_id)),
                ":low": av(low),
                ":high": av(high),
            },
            "ConsistentRead": True,
        }
        lead, merged, children, records = None, None, [], []
        with store_errors():
            for page in query_pages(self.client, **request):
                for item in page.get("Items", []):
                    sort_key = item["SK"]["S"]
                    if sort_key == LeadKeys.SK:
                        lead = lead_from_item(item)
                    elif sort_key == MergeKeys.MERGED:
                        merged = merged_from_item(item)
                    elif sort_key.startswith(MergeKeys.RECORD):
                        records.append(record_from_item(item))
                    elif sort_key.startswith(tuple(CHILD_PREFIXES)):
                        children.append(item)
        return LeadPartition(lead, merged, children, records)

    def record(self, tenant_id: str, survivor_id: int, merge_id: str) -> MergeRecord | None:
        with store_errors():
            response = self.client.get_item(
                TableName=self.table,
                Key=to_item(MergeKeys.record(tenant_id, survivor_id, merge_id)),
                ConsistentRead=True,
            )
        item = response.get("Item")
        return record_from_item(item) if item else None

    def merged_lead(self, tenant_id: str, lead_id: int) -> MergedLead | None:
        with store_errors():
            response = self.client.get_item(
                TableName=self.table, Key=to_item(MergeKeys.merged(tenant_id, lead_id)), ConsistentRead=True
            )
        item = response.get("Item")
        return merged_from_item(item) if item else None

    # ------------------------------------------------------------------ a merge
    def claim(
        self,
        record: MergeRecord,
        survivor: Lead,
        merged: Sequence[tuple[Lead, MergedLead, HistoryEntry]],
    ) -> None:
        """Step 1, one transaction (at most 3 x 29 + 3 items): each ``(lead, merged item,
        history entry)`` swaps its lead item for its ``MERGED`` item if its version is still the
        one read (its past-email item of its address written: what an erasure finds it by), the
        survivor is checked at its version, the record is written. ``MergeRace``
        when any of it changed meanwhile."""
        table = self.table
        tenant_id = survivor.tenant_id
        items: list[dict[str, Any]] = [
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": to_item(LeadKeys.primary(tenant_id, survivor.id)),
                    "ConditionExpression": "version = :expected",
                    "ExpressionAttributeValues": {":expected": av(survivor.version)},
                }
            }
        ]
        deltas: dict[str, int] = {}
        for lead, merged_item, entry in merged:
            key = to_item(LeadKeys.primary(tenant_id, lead.id))
            items += [
                {"Delete": delete_if_version(table, key, lead.version)},
                {
                    "Put": {
                        "TableName": table,
                        "Item": merged_to_item(merged_item),
                        "ConditionExpression": _NEW,
                    }
                },
                *entry_writes(table, lead, None),
                *merged_away_writes(table, lead),
                history_write(table, entry),
            ]
            for name, delta in counter_deltas(lead, None).items():
                deltas[name] = deltas.get(name, 0) + delta
        items += [
            {"Update": stats_update(table, tenant_id, deltas)},
            {"Put": {"TableName": table, "Item": record_to_item(record), "ConditionExpression": _NEW}},
        ]
        try:
            transient_retries(lambda: self.transact(items))
        except ConditionFailed as failed:
            raise MergeRace() from failed

    def move_children(
        self, record: MergeRecord, origin: int, children: Sequence[dict[str, Any]], kept_links: set[str]
    ) -> None:
        """Step 2 for one merged-away lead: its ``children`` (stored items, as read) into the
        survivor's partition, ``CHILDREN_PER_MOVE`` a transaction, each on condition that the
        record is still ``moving`` (``MergeRace``: another run finished it) and that each child
        is still as read (``ChildChanged``). Email links whose sort key is in ``kept_links`` (the
        survivor has the email) stay where they are; a copy finds its key free in the survivor's
        partition or is not written (``ChildChanged``: the email was linked to the survivor since
        ``kept_links`` was read, and that link is the survivor's own)."""
        moving = [item for item in children if item["SK"]["S"] not in kept_links]
        step = f"{record.merge_id}#{origin}"
        self._move(
            record,
            "moving",
            [(item, _moved_copy(item, record.survivor_id, [*trail_of(item), step])) for item in moving],
            new_copies=True,
        )

    def finish(
        self, record: MergeRecord, before: Lead | None, after: Lead | None, entry: HistoryEntry | None
    ) -> None:
        """Step 3: the survivor ``before`` becomes ``after`` (if its version is still
        ``before.version``) with its entries, counts and history ``entry``, and the record
        ``done``, in one transaction (``MergeRace`` otherwise). No survivor (it was deleted
        meanwhile): the record alone."""
        self._write_survivor(record, "moving", {"status": "done"}, before, after, entry)

    # ------------------------------------------------------------------ an undo
    def start_undo(
        self,
        record: MergeRecord,
        restored: Sequence[tuple[MergedLead, Lead, HistoryEntry]],
        undone: dict[str, Any],
    ) -> None:
        """Undo's step 1, one transaction: the record becomes ``undoing`` (with ``undone``: when,
        by whom) if it is ``done``; each merged-away lead's ``MERGED`` item (if it is still this
        merge's) becomes its lead item again, with its entries, counts and an ``unmerged``
        history entry. ``MergeRace`` otherwise."""
        table = self.table
        items: list[dict[str, Any]] = [self._record_update(record, "done", {"status": "undoing", **undone})]
        deltas: dict[str, int] = {}
        for merged_item, lead, entry in restored:
            items += [
                {
                    "Delete": {
                        "TableName": table,
                        "Key": to_item(MergeKeys.merged(lead.tenant_id, lead.id)),
                        "ConditionExpression": "merge_id = :merge",
                        "ExpressionAttributeValues": {":merge": av(merged_item.merge_id)},
                    }
                },
                {"Put": {"TableName": table, "Item": lead_to_item(lead), "ConditionExpression": _NEW}},
                *entry_writes(table, None, lead),
                history_write(table, entry),
            ]
            for name, delta in counter_deltas(None, lead).items():
                deltas[name] = deltas.get(name, 0) + delta
        items.append({"Update": stats_update(table, record.tenant_id, deltas)})
        self._transact_or_race(items)

    def move_back(self, record: MergeRecord, children: Sequence[dict[str, Any]]) -> None:
        """Undo's step 2: the survivor's ``children`` (as read) that this merge moved go back to
        the lead each came from, ``CHILDREN_PER_MOVE`` a transaction, while the record is
        ``undoing`` (``MergeRace``) and each child is as read (``ChildChanged``)."""
        moves = []
        for item in children:
            origin = moved_by(item, record.merge_id)
            if origin is not None:
                moves.append((item, _moved_copy(item, origin, trail_of(item)[:-1])))
        self._move(record, "undoing", moves)

    def finish_undo(
        self,
        record: MergeRecord,
        before: Lead | None,
        after: Lead | None,
        entry: HistoryEntry | None,
        kept: list[str],
    ) -> None:
        """Undo's step 3: the survivor's values back (as ``finish``) and the record ``undone``."""
        self._write_survivor(record, "undoing", {"status": "undone", "kept": kept}, before, after, entry)

    # ------------------------------------------------------------------ shared
    def _move(
        self,
        record: MergeRecord,
        status: str,
        moves: Sequence[tuple[dict[str, Any], dict[str, Any]]],
        *,
        new_copies: bool = False,
    ) -> None:
        """Each ``(item, copy)``: the copy put (``new_copies``: only where its key is free), the
        item deleted if it is still as read (its version, for a child that has one), a batch a
        transaction with the record's check."""
        put_condition = {"ConditionExpression": _NEW} if new_copies else {}
        for start in range(0, len(moves), CHILDREN_PER_MOVE):
            items = [self._record_is(record, status)]
            for item, copy in moves[start : start + CHILDREN_PER_MOVE]:
                delete: dict[str, Any] = {
                    "TableName": self.table,
                    "Key": {"PK": item["PK"], "SK": item["SK"]},
                    "ConditionExpression": "attribute_exists(PK)",
                }
                if "version" in item:
                    delete["ConditionExpression"] += " AND version = :version"
                    delete["ExpressionAttributeValues"] = {":version": item["version"]}
                items += [
                    {"Put": {"TableName": self.table, "Item": copy, **put_condition}},
                    {"Delete": delete},
                ]
            try:
                transient_retries(lambda: self.transact(items))  # noqa: B023 - called at once
            except ConditionFailed as failed:
                if 0 in failed.failed_items():
                    raise MergeRace() from failed
                raise ChildChanged() from failed

    def _write_survivor(
        self,
        record: MergeRecord,
        status: str,
        changes: dict[str, Any],
        before: Lead | None,
        after: Lead | None,
        entry: HistoryEntry | None,
    ) -> None:
        items = [self._record_update(record, status, changes)]
        if before is not None and after is not None and entry is not None:
            items += [
                {"Put": put_if_version(self.table, lead_to_item(after), before.version)},
                *entry_writes(self.table, before, after),
                history_write(self.table, entry),
            ]
            deltas = counter_deltas(before, after)
            if deltas:
                items.append({"Update": stats_update(self.table, record.tenant_id, deltas)})
        self._transact_or_race(items)

    def _record_is(self, record: MergeRecord, status: str) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": to_item(MergeKeys.record(record.tenant_id, record.survivor_id, record.merge_id)),
                "ConditionExpression": "#status = :status",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":status": av(status)},
            }
        }

    def _record_update(self, record: MergeRecord, status: str, changes: dict[str, Any]) -> dict[str, Any]:
        """The record's Update to ``changes`` on condition that its status is ``status``."""
        names = {f"#a{i}": name for i, name in enumerate(changes)}
        values = {f":a{i}": _value(value) for i, value in enumerate(changes.values())}
        names["#status"] = "status"
        values[":expected"] = av(status)
        return {
            "Update": {
                "TableName": self.table,
                "Key": to_item(MergeKeys.record(record.tenant_id, record.survivor_id, record.merge_id)),
                "UpdateExpression": "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(changes))),
                "ConditionExpression": "#status = :expected",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _transact_or_race(self, items: list[dict[str, Any]]) -> None:
        try:
            transient_retries(lambda: self.transact(items))
        except ConditionFailed as failed:
            raise MergeRace() from failed


def _value(value: Any) -> dict[str, Any]:
    """One attribute value as ``to_item`` stores it (models as maps)."""
    plain = value.model_dump() if hasattr(value, "model_dump") else value
    return to_item({"value": plain})["value"]
