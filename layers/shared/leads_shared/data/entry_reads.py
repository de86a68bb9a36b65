"""Reading the leads' index entries (``lead_entries``): pages of one order (the BY indexes),
merged across partitions (a team's assignees), filtered by what the entries hold; counts of
them; and the leads a search term matches (SEARCH). Every read is bounded: by the page (and
the share of entries its filters keep), or by ``cap`` items."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leads_shared.data.dynamo import TableStore, av, query_pages, store_errors
from leads_shared.data.index_pages import PAGE_ITEMS
from leads_shared.keys import LeadIndexKeys

if TYPE_CHECKING:
    from leads_shared.keys import IndexPartition


@dataclass(frozen=True)
class EntryFilter:
    """What the entries read must also hold (the filters their partition does not answer)."""

    status: str | None = None
    assignees: frozenset[int] | None = None
    source: str | None = None  # ``keys.source_key``
    created_from: str | None = None  # ``created_at`` on or after (an ISO day)
    created_to: str | None = None  # ``created_at`` on or before this ISO day (inclusive)

    def expression(self) -> tuple[str, dict[str, str], dict[str, Any]] | None:
        clauses: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if self.status is not None:
            clauses.append("#status = :status")
            names["#status"], values[":status"] = "status", av(self.status)
        if self.assignees is not None:
            users = sorted(self.assignees)
            placeholders = ", ".join(f":u{i}" for i in range(len(users)))
            clauses.append(f"#assignee IN ({placeholders})")
            names["#assignee"] = "assigned_to"
            values.update({f":u{i}": av(user) for i, user in enumerate(users)})
        if self.source is not None:
            clauses.append("#source = :source")
            names["#source"], values[":source"] = "source_key", av(self.source)
        if self.created_from is not None:
            clauses.append("#created >= :from")
            names["#created"], values[":from"] = "created_at", av(self.created_from)
        if self.created_to is not None:
            clauses.append("#created <= :to")
            names["#created"], values[":to"] = "created_at", av(f"{self.created_to}~")
        if not clauses:
            return None
        return " AND ".join(clauses), names, values


@dataclass(frozen=True)
class KeyRange:
    """Bounds of the sort key (inclusive), either may be open; ``after``: strictly past this
    key in the read's direction (a cursor's position)."""

    low: str | None = None
    high: str | None = None


@dataclass(frozen=True)
class EntryQuery:
    """How entries are read: in which direction, within which bounds, kept by which filters,
    after which key (a cursor's)."""

    forward: bool
    bounds: KeyRange = KeyRange()
    filters: EntryFilter = EntryFilter()
    after: str | None = None


@dataclass
class EntryRead:
    """What a read of entries found."""

    keys: list[tuple[str, int]] = field(default_factory=list)  # (sort key, lead id), in order
    more: bool = False


class EntryReads(TableStore):
    def _entry_request(
        self,
        partition: IndexPartition,
        *,
        forward: bool,
        bounds: KeyRange,
        filters: EntryFilter,
        count: bool = False,
    ) -> dict[str, Any]:
        sort_attribute = partition.sort_attribute
        condition = "#pk = :pk"
        names = {"#pk": partition.attribute, "#sk": sort_attribute}
        values: dict[str, Any] = {":pk": av(partition.value)}
        if bounds.low is not None and bounds.high is not None:
            condition += " AND #sk BETWEEN :low AND :high"
            values.update({":low": av(bounds.low), ":high": av(bounds.high)})
        elif bounds.low is not None:
            condition += " AND #sk >= :low"
            values[":low"] = av(bounds.low)
        elif bounds.high is not None:
            condition += " AND #sk <= :high"
            values[":high"] = av(bounds.high)
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": partition.index,
            "KeyConditionExpression": condition,
            "ScanIndexForward": forward,
        }
        expression = filters.expression()
        if expression is not None:
            text, more_names, more_values = expression
            request["FilterExpression"] = text
            names.update(more_names)
            values.update(more_values)
        if count:
            request["Select"] = "COUNT"
            if bounds.low is None and bounds.high is None:
                del names["#sk"]
        else:
            request["ProjectionExpression"] = "#sk, #id"
            names["#id"] = "id"
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = values
        return request

    def _entries(
        self, partition: IndexPartition, wanted: int | None, read: EntryQuery
    ) -> Iterator[tuple[str, int]]:
        """The (sort key, id) of a partition's entries in order, a Query page at a time, each
        Query asking only for what is still ``wanted`` (None: all); the entry at ``read.after``
        itself (a cursor's), when still there, is left out."""
        bounds, after = read.bounds, read.after
        if after is not None:
            if wanted is not None:
                wanted += 1  # the cursor's own entry may come back first
            if read.forward:
                bounds = KeyRange(max(after, bounds.low or after), bounds.high)
            else:
                bounds = KeyRange(bounds.low, min(after, bounds.high or after))
        request = self._entry_request(partition, forward=read.forward, bounds=bounds, filters=read.filters)
        sort_attribute = partition.sort_attribute
        found = 0
        with store_errors():
            while True:
                request["Limit"] = PAGE_ITEMS if wanted is None else min(max(wanted - found, 1), PAGE_ITEMS)
                page = self.client.query(**request)
                for item in page.get("Items", []):
                    found += 1
                    key = item[sort_attribute]["S"]
                    if key != after:
                        yield key, int(item["id"]["N"])
                last = page.get("LastEvaluatedKey")
                if not last or (wanted is not None and found >= wanted):
                    return
                request["ExclusiveStartKey"] = last

    def _merged(
        self, partitions: Sequence[IndexPartition], wanted: int | None, read: EntryQuery
    ) -> Iterator[tuple[str, int]]:
        """The entries of ``partitions`` merged in order (sort keys are unique: they end in the
        lead id), read lazily: each partition no further than what is taken from it."""
        streams = [self._entries(partition, wanted, read) for partition in partitions]
        return streams[0] if len(streams) == 1 else heapq.merge(*streams, reverse=not read.forward)

    def iter_entries(
        self,
        partitions: Sequence[IndexPartition],
        *,
        forward: bool,
        bounds: KeyRange = KeyRange(),
        filters: EntryFilter = EntryFilter(),
    ) -> Iterator[tuple[str, int]]:
        """Every entry of ``partitions`` that holds ``filters``, in order."""
        return self._merged(partitions, None, EntryQuery(forward, bounds, filters))

    def read_entries(
        self,
        partitions: Sequence[IndexPartition],
        *,
        forward: bool,
        count: int,
        bounds: KeyRange = KeyRange(),
        filters: EntryFilter = EntryFilter(),
        after: str | None = None,
    ) -> EntryRead:
        """The first ``count`` entries (and whether more follow: one read ahead)."""
        read = EntryRead()
        merged = self._merged(partitions, count + 1, EntryQuery(forward, bounds, filters, after))
        for key in merged:
            if len(read.keys) == count:
                read.more = True
                break
            read.keys.append(key)
        return read

    def count_entries(
        self,
        partitions: Sequence[IndexPartition],
        *,
        cap: int,
        bounds: KeyRange = KeyRange(),
        filters: EntryFilter = EntryFilter(),
    ) -> tuple[int, bool]:
        """How many entries of ``partitions`` hold ``filters`` (reading their keys only), and
        whether the count stopped at ``cap`` items read (then it is a lower bound)."""
        total = scanned = 0
        for partition in partitions:
            request = self._entry_request(partition, forward=True, bounds=bounds, filters=filters, count=True)
            request["Limit"] = min(cap - scanned + 1, PAGE_ITEMS)
            with store_errors():
                for page in query_pages(self.client, **request):
                    total += int(page.get("Count", 0))
                    scanned += int(page.get("ScannedCount", 0))
                    if scanned > cap:
                        return total, True
                    request["Limit"] = min(cap - scanned + 1, PAGE_ITEMS)
        return total, False

    def search_ids(self, tenant_id: str, term: str, *, cap: int) -> tuple[set[int], bool]:
        """The ids of the leads with a token starting with ``term`` (a ``search_tokens`` term),
        from its first character's partitions of SEARCH (one Query per shard, reading the
        matching entries only), and whether it stopped past ``cap`` leads."""
        ids: set[int] = set()
        for shard in range(LeadIndexKeys.SEARCH_SHARDS):
            partition = LeadIndexKeys.search_partition(tenant_id, term[0], shard)
            request: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": partition.index,
                "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :term)",
                "ExpressionAttributeNames": {"#pk": partition.attribute, "#sk": "SEARCHSK", "#id": "id"},
                "ExpressionAttributeValues": {":pk": av(partition.value), ":term": av(term)},
                "ProjectionExpression": "#id",
                "Limit": min(cap + 1, PAGE_ITEMS),
            }
            with store_errors():
                for page in query_pages(self.client, **request):
                    ids.update(int(item["id"]["N"]) for item in page.get("Items", []))
                    if len(ids) > cap:
                        return ids, True
        return ids, False
