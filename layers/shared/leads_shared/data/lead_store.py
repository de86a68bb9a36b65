"""DynamoDB access for leads.

Every write that changes what ``total`` counts updates the tenant's stats item in the same
transaction (``lead_counters``), so counts never drift from the leads. Lead ids come from the stats item's
``lead_seq``: a create reads it and writes ``lead_seq + 1`` with a condition, so two creates can
never take the same id. The loser of such a race reserves an id with an atomic ``ADD`` instead
(``reserve_ids``), which two writers can never share: contention costs two more requests.
A transaction cancelled only because another one was touching the same items is retried here
(``_transient_retries``); a failed condition is left to the caller to interpret.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from leads_shared.data.directory_store import deal_added, user_from_item
from leads_shared.data.dynamo import (
    BATCH_GET_LIMIT,
    av,
    from_item,
    query_pages,
    store_errors,
    stored_values,
    to_item,
)
from leads_shared.data.entry_reads import EntryReads
from leads_shared.data.history_items import history_from_item, history_write
from leads_shared.data.index_pages import index_pages
from leads_shared.data.lead_counters import LeadStats, counter_deltas, stats_from_item, stats_update
from leads_shared.data.lead_entries import (
    ENTRIES_MARKER,
    ENTRIES_VERSION,
    MAX_ENTRIES,
    entries,
    entry_writes,
    is_entry,
)
from leads_shared.data.record_store import company_to_item, contact_to_item, deal_to_item
from leads_shared.data.writes import (
    ConditionFailed,
    VersionConflict,
    delete_if_version,
    put_if_version,
    transient_retries,
)
from leads_shared.errors import MergedAway
from leads_shared.keys import (
    ORDER_INDEXES,
    DirectoryKeys,
    DuplicateClaimKeys,
    EmailLookup,
    IndexPartition,
    LeadHistoryKeys,
    LeadIndexKeys,
    LeadKeys,
    LeadStatsKeys,
    MailKeys,
    MergeKeys,
    TrashKeys,
    text_sort_key,
)
from leads_shared.match_keys import phone_key
from leads_shared.models.activities import Note, Task
from leads_shared.models.emails import EmailLink
from leads_shared.models.leads import Lead
from leads_shared.models.records import Contact

if TYPE_CHECKING:
    from leads_shared.models.directory import User
    from leads_shared.models.history import HistoryEntry
    from leads_shared.models.records import Company, Deal

# A lead's delete takes this many of its children into its own transaction (DynamoDB's limit is
# 100 items: the lead, its counters, its index entries, and these); the rest go right after, in
# batches.
CHILDREN_IN_DELETE = 98 - MAX_ENTRIES
# Full leads of narrow rows fetched per BatchGetItem (its limit).
FULL_LEADS_BATCH = 100
# Leads of one assignee read per Query when their new name is written (``assigned_not_showing``):
# small pages, so that a writer that must stop (its invocation's time is running out) stops soon.
ASSIGNEE_PAGE = 100
# "The lead does not show :name as its assignee's name" (``#shown`` is ``assigned_to_name``).
_NOT_SHOWING = "(attribute_not_exists(#shown) OR #shown <> :name)"


class SequenceTaken(Exception):
    """Another writer took the id first: take another one."""


class KeysClaimed(Exception):
    """Another create that refuses duplicates holds some of the lead's match keys (``KeyClaims``):
    nothing was written. ``holders``: kind -> the id of the lead its hold names."""

    def __init__(self, holders: dict[str, int]) -> None:
        super().__init__("match keys claimed")
        self.holders = holders


@dataclass(frozen=True)
class KeyClaims:
    """The match keys (kind -> value) a create that refuses duplicates holds with its lead until
    ``expires_at`` (epoch seconds; ``now``: when it writes), each on condition that no other hold
    of it is in force; ``stale``: kind -> the lead id of a hold found stale (its lead gone, or
    without the key any more), which the write may take over (``DuplicateClaimKeys``)."""

    keys: Mapping[str, str]
    now: int
    expires_at: int
    stale: Mapping[str, int] = field(default_factory=dict)


def claim_writes(table: str, lead: Lead, claims: KeyClaims) -> list[dict[str, Any]]:
    """The Puts of a lead's ``claims`` (``DuplicateClaimKeys``), each conditional on the key being
    free: never held, its hold expired, or held by the stale lead ``claims.stale`` names."""
    writes = []
    for kind, value in claims.keys.items():
        condition = "attribute_not_exists(PK) OR expires_at < :now"
        values = {":now": av(claims.now)}
        if kind in claims.stale:
            condition += " OR lead_id = :stale"
            values[":stale"] = av(claims.stale[kind])
        item = {
            **DuplicateClaimKeys.primary(lead.tenant_id, kind, value),
            "entity": "duplicate_claim",
            "lead_id": lead.id,
            "expires_at": claims.expires_at,
        }
        put = {"TableName": table, "Item": to_item(item), "ConditionExpression": condition}
        writes.append({"Put": {**put, "ExpressionAttributeValues": values}})
    return writes


class IdTaken(Exception):
    """A record written with the lead already exists under its new id (a sequence behind the
    data): nothing was written; take new ids."""


def lead_to_item(lead: Lead) -> dict[str, Any]:
    return to_item(
        {**lead.model_dump(), **LeadKeys.all_keys(lead), "entity": "lead", ENTRIES_MARKER: ENTRIES_VERSION}
    )


def stored_items(lead: Lead) -> list[dict[str, Any]]:
    """Everything a new lead is stored as: the lead item, then its index entries."""
    return [lead_to_item(lead), *entries(lead).values()]


def lead_from_item(item: dict[str, Any]) -> Lead:
    return Lead.model_validate(stored_values(item))


def _entries_version(item: dict[str, Any]) -> int:
    """Which entries a stored lead item was written with (0: none)."""
    return int(item.get(ENTRIES_MARKER, {}).get("N", 0))


@dataclass(frozen=True)
class MatchCandidates:
    """What a lead's match keys found (``LeadStore.match_candidates``), the lead itself included."""

    leads: list[Lead]
    contacts: list[Contact]


@dataclass(frozen=True)
class MatchedRecord:
    """A lead or contact that shares match keys with a lead (``LeadStore.match_ids``)."""

    type: Literal["lead", "contact"]
    id: int
    kinds: list[str]  # the match kinds whose index named it, in the order read


def _is_contact(item: dict[str, Any]) -> bool:
    """Whether an item of an email's LOOKUP partition is a contact (the others are leads)."""
    return item.get("entity", {}).get("S") == "contact"


@dataclass(frozen=True)
class LeadOrder:
    """Leads that one index holds in list order: every lead, one status's or one assignee's, by
    name; or every lead by creation time (the narrow list). ``GET /leads`` reads a page of one."""

    by: Literal["name", "created_at"] = "name"
    status: str | None = None
    assignee: int | None = None

    def partition(self, tenant_id: str) -> IndexPartition:
        if self.by == "created_at":
            return LeadKeys.by_creation(tenant_id)
        if self.status is not None:
            return LeadKeys.by_status_then_name(tenant_id, self.status)
        if self.assignee is not None:
            return LeadKeys.by_assignee_then_name(tenant_id, self.assignee)
        return LeadKeys.by_name(tenant_id)

    @property
    def counter(self) -> str:
        """The counter of the tenant's stats item that counts these leads."""
        if self.status is not None:
            return LeadStatsKeys.status_counter(self.status)
        if self.assignee is not None:
            return LeadStatsKeys.assignee_counter(self.assignee)
        return LeadStatsKeys.TOTAL


@dataclass(frozen=True)
class IndexPosition:
    """Where a page of a ``LeadOrder`` ended: the index sort key and the id of its last item (the
    next page starts right after it, wherever the leads before it went meanwhile)."""

    sort_key: str
    lead_id: int


@dataclass(frozen=True)
class OrderPage:
    leads: list[Lead]
    last: IndexPosition | None  # of the page's last item read (None: the page is empty)
    more: bool  # the order holds items after the page (known only when read ahead)


@dataclass(frozen=True)
class LeadActivity:
    """What a lead's partition holds that its timeline shows (``LeadStore.activity``); history
    oldest first, the others by id."""

    lead: Lead | None  # None: no live lead (unknown, or in the recycle bin)
    history: list[HistoryEntry]
    notes: list[Note]
    tasks: list[Task]
    links: list[EmailLink]


@dataclass(frozen=True)
class LeadRemains:
    """What a lead's partition holds (``LeadStore.get_with_children``)."""

    lead: Lead | None
    trashed: bool  # the lead is in the recycle bin
    children: list[dict[str, str]]  # keys of everything else that goes with it
    merged: bool = False  # the lead was merged into another (its ``MERGED`` item is there)


class LeadStore(EntryReads):
    # ------------------------------------------------------------------ reads
    def get(self, tenant_id: str, lead_id: int) -> Lead | None:
        with store_errors():
            response = self.client.get_item(
                TableName=self.table,
                Key=to_item(LeadKeys.primary(tenant_id, lead_id)),
                ConsistentRead=True,
            )
        item = response.get("Item")
        return lead_from_item(item) if item else None

    def _partition(
        self, tenant_id: str, lead_id: int, *, between: tuple[str, str] | None = None, keys_only: bool = False
    ) -> list[dict[str, Any]]:
        """A lead's partition (or its sort keys ``between`` two), in sort-key order, consistently."""
        condition = "PK = :pk"
        values = {":pk": av(LeadKeys.pk(tenant_id, lead_id))}
        if between:
            condition += " AND SK BETWEEN :low AND :high"
            values.update({":low": av(between[0]), ":high": av(between[1])})
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        if keys_only:
            request["ProjectionExpression"] = "PK, SK"
        with store_errors():
            return [item for page in query_pages(self.client, **request) for item in page.get("Items", [])]

    def get_with_notes(self, tenant_id: str, lead_id: int) -> tuple[Lead | None, list[Note]]:
        """A lead and its notes, newest first, in one Query (notes sort right after the lead; a
        survivor's merge records sort between). A lead merged into another finds its ``MERGED``
        item there instead: ``MergedAway`` (its 404 names the survivor)."""
        items = self._partition(tenant_id, lead_id, between=(LeadKeys.SK, f"{LeadKeys.NOTE}~"))
        if not items or items[0]["SK"]["S"] != LeadKeys.SK:
            merged = next((item for item in items if item["SK"]["S"] == MergeKeys.MERGED), None)
            if merged is not None:
                raise MergedAway(int(merged["merged_into"]["N"]), merged["merge_id"]["S"])
            return None, []
        notes = [
            Note.model_validate(stored_values(item))
            for item in reversed(items)
            if item["SK"]["S"].startswith(LeadKeys.NOTE)
        ]
        return lead_from_item(items[0]), notes

    def history(self, tenant_id: str, lead_id: int) -> tuple[Lead | None, list[HistoryEntry]]:
        """The lead (None: no live lead) and its history, oldest first: one Query from ``CHANGE#``
        to ``LEAD`` (its email links, which sort between, are read too and left out)."""
        items = self._partition(tenant_id, lead_id, between=(LeadHistoryKeys.PREFIX, LeadKeys.SK))
        if not items or items[-1]["SK"]["S"] != LeadKeys.SK:
            return None, []
        history = [history_from_item(i) for i in items if i["SK"]["S"].startswith(LeadHistoryKeys.PREFIX)]
        return lead_from_item(items[-1]), history

    def activity(self, tenant_id: str, lead_id: int) -> LeadActivity:
        """The lead, its history, notes, tasks and email links: one Query of its partition."""
        lead, history, notes, tasks, links = None, [], [], [], []
        for item in self._partition(tenant_id, lead_id):
            sort_key = item["SK"]["S"]
            if sort_key == LeadKeys.SK:
                lead = lead_from_item(item)
            elif sort_key.startswith(LeadHistoryKeys.PREFIX):
                history.append(history_from_item(item))
            elif sort_key.startswith(LeadKeys.NOTE):
                notes.append(Note.model_validate(stored_values(item)))
            elif sort_key.startswith(LeadKeys.TASK):
                tasks.append(Task.model_validate(stored_values(item)))
            elif sort_key.startswith(LeadKeys.EMAIL):
                links.append(EmailLink.model_validate(stored_values(item)))
        return LeadActivity(lead, history, notes, tasks, links)

    def get_with_children(self, tenant_id: str, lead_id: int) -> LeadRemains:
        """What a lead's partition holds, in one Query: the lead (None when it does not exist),
        whether it is in the recycle bin, and the keys of everything else that goes with it: its
        notes, tasks, index entries and email links (which sort before the lead) and, first, the
        emails logged by hand on it (stored apart; captured emails stay: other leads may have
        them)."""
        items = self._partition(tenant_id, lead_id)
        lead = next((item for item in items if item["SK"]["S"] == LeadKeys.SK), None)
        trashed = any(item["SK"]["S"] == TrashKeys.SK for item in items)
        merged = any(item["SK"]["S"] == MergeKeys.MERGED for item in items)
        logged = [
            MailKeys.primary(tenant_id, int(item["id"]["N"]))
            for item in items
            if item["SK"]["S"].startswith(LeadKeys.EMAIL) and item.get("source", {}).get("S") == "logged"
        ]
        own = [
            {"PK": item["PK"]["S"], "SK": item["SK"]["S"]}
            for item in items
            if item["SK"]["S"] not in (LeadKeys.SK, TrashKeys.SK, MergeKeys.MERGED)
        ]
        # Without the lead or its trashed item, what is left are the leftovers of a delete that
        # died half-way (or of a trashed lead that TTL removed).
        return LeadRemains(lead_from_item(lead) if lead else None, trashed, [*logged, *own], merged)

    def _with_user(
        self, tenant_id: str, key: dict[str, str], user_id: int | None
    ) -> tuple[dict[str, Any] | None, User | None]:
        """One item and (when asked) a user of the tenant, in one consistent request."""
        keys = [key]
        if user_id is not None:
            keys.append(DirectoryKeys.user(tenant_id, user_id))
        item: dict[str, Any] | None = None
        user: User | None = None
        for found in self.batch_get(keys, consistent=True):
            if found["PK"]["S"] == key["PK"] and found["SK"]["S"] == key["SK"]:
                item = found
            else:
                user = user_from_item(found)
        return item, user

    def get_with_user(
        self, tenant_id: str, lead_id: int, user_id: int | None
    ) -> tuple[Lead | None, User | None]:
        """A lead and (when asked) a user of the tenant, in one request."""
        item, user = self._with_user(tenant_id, LeadKeys.primary(tenant_id, lead_id), user_id)
        return (lead_from_item(item) if item else None), user

    def stats_with_user(self, tenant_id: str, user_id: int | None) -> tuple[LeadStats, User | None]:
        """The tenant's lead counters (and a user of the tenant, when asked) in one request."""
        item, user = self._with_user(tenant_id, LeadStatsKeys.primary(tenant_id), user_id)
        return (stats_from_item(item) if item else LeadStats()), user

    def stats(self, tenant_id: str) -> LeadStats:
        with store_errors():
            response = self.client.get_item(
                TableName=self.table, Key=to_item(LeadStatsKeys.primary(tenant_id))
            )
        item = response.get("Item")
        return stats_from_item(item) if item else LeadStats()

    def _pages(
        self, partition: IndexPartition, forward: bool, count: int | None
    ) -> Iterator[list[dict[str, Any]]]:
        return index_pages(self.client, self.table, partition, forward=forward, count=count)

    def _query(self, partition: IndexPartition, forward: bool, count: int | None) -> list[dict[str, Any]]:
        return [item for page in self._pages(partition, forward, count) for item in page]

    def iter_leads(self, partition: IndexPartition, *, forward: bool = True) -> Iterator[Lead]:
        """Every lead of a partition of an index that projects whole leads, a page at a time."""
        for page in self._pages(partition, forward, None):
            yield from (lead_from_item(item) for item in page)

    def iter_rows(self, partition: IndexPartition, *, forward: bool = True) -> Iterator[dict[str, Any]]:
        for page in self._pages(partition, forward, None):
            yield from (from_item(item) for item in page)

    def id_with_email(self, tenant_id: str, email: str, *, besides: range = range(0)) -> int | None:
        """The id of the tenant's oldest lead whose email is ``email`` (any case), leads
        ``besides`` left out (at most one of them may have it): one Query of the email's LOOKUP
        partition, its leads only, at most 2 items read (eventually consistent)."""
        partition = EmailLookup.partition(tenant_id, email)
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": partition.index,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :lead)",
            "ExpressionAttributeNames": {"#pk": partition.attribute, "#sk": "LOOKUPSK", "#id": "id"},
            "ExpressionAttributeValues": {":pk": av(partition.value), ":lead": av(LeadKeys.LOOKUP_PREFIX)},
            "ProjectionExpression": "#id",
            "Limit": 2,
        }
        with store_errors():
            items = self.client.query(**request).get("Items", [])
        ids = (int(item["id"]["N"]) for item in items)
        return next((lead_id for lead_id in ids if lead_id not in besides), None)

    def query_leads(self, partition: IndexPartition, *, forward: bool, count: int) -> list[Lead]:
        """The first ``count`` leads of a partition of an index that projects whole leads."""
        return [lead_from_item(item) for item in self._query(partition, forward, count)]

    def query_rows(
        self, partition: IndexPartition, *, forward: bool = True, count: int | None = None
    ) -> list[dict[str, Any]]:
        """Rows (the projected attributes) of an index partition: the first ``count``, or all."""
        return [from_item(item) for item in self._query(partition, forward, count)]

    def count(self, tenant_id: str, order: LeadOrder) -> int:
        """How many leads ``order`` holds, from the tenant's counters (one GetItem)."""
        return self.stats(tenant_id).count(order.counter)

    def page_in_order(
        self,
        tenant_id: str,
        order: LeadOrder,
        *,
        forward: bool,
        count: int,
        skip: int = 0,
        after: IndexPosition | None = None,
        read_ahead: bool = False,
    ) -> OrderPage:
        """``count`` leads of ``order`` after the first ``skip`` (an offset: what comes before
        is read too) or right after the position ``after`` (a cursor: nothing before it is
        read), in one index Query (and, for the narrow list, one BatchGetItem of the page's
        full leads). ``read_ahead`` reads one item more, to tell whether the order goes on."""
        partition = order.partition(tenant_id)
        start = None
        if after is not None:
            start = partition.start_after(LeadKeys.primary(tenant_id, after.lead_id), after.sort_key)
        wanted = skip + count + (1 if read_ahead else 0)
        pages = index_pages(self.client, self.table, partition, forward=forward, count=wanted, start=start)
        items = [item for page in pages for item in page]
        more = len(items) > skip + count
        items = items[skip : skip + count]
        last = None
        if items:
            last = IndexPosition(items[-1][partition.sort_attribute]["S"], int(items[-1]["id"]["N"]))
        if partition.projects_all:
            return OrderPage([lead_from_item(item) for item in items], last, more)
        return OrderPage(self.full_leads(tenant_id, [from_item(item) for item in items]), last, more)

    def iter_leads_in_order(self, tenant_id: str, order: LeadOrder, *, forward: bool) -> Iterator[Lead]:
        """Every lead of ``order``, a Query page at a time (the narrow list's full leads are
        fetched 100 at a time)."""
        partition = order.partition(tenant_id)
        if partition.projects_all:
            yield from self.iter_leads(partition, forward=forward)
        else:
            yield from self.iter_full_leads(tenant_id, self.iter_rows(partition, forward=forward))

    def full_leads(self, tenant_id: str, rows: Sequence[Mapping[str, Any]]) -> list[Lead]:
        """The leads of narrow ``rows``, in their order (one BatchGetItem per 100); a lead
        deleted since its row was read is left out rather than failing the page."""
        if not rows:
            return []
        found = self.get_many(tenant_id, (row["id"] for row in rows))
        return [found[row["id"]] for row in rows if row["id"] in found]

    def iter_full_leads(self, tenant_id: str, rows: Iterable[Mapping[str, Any]]) -> Iterator[Lead]:
        """``full_leads`` of ``rows``, 100 at a time."""
        batch: list[Mapping[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == FULL_LEADS_BATCH:
                yield from self.full_leads(tenant_id, batch)
                batch = []
        yield from self.full_leads(tenant_id, batch)

    def assigned_not_showing(
        self, tenant_id: str, user_id: int, name: str, *, page_size: int = ASSIGNEE_PAGE
    ) -> Iterator[list[int]]:
        """Ids of the leads assigned to ``user_id`` (its GSI3 partition) whose ``assigned_to_name``
        is not ``name``, a Query page at a time (``page_size`` leads read per page; the filter
        leaves out those showing ``name`` already, so a second pass writes nothing). GSI3 is
        eventually consistent: ``show_assignee_name`` checks the lead itself."""
        partition = LeadKeys.by_assignee_then_name(tenant_id, user_id)
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": partition.index,
            "KeyConditionExpression": "#pk = :pk",
            "FilterExpression": _NOT_SHOWING,
            "ProjectionExpression": "#id",
            "ExpressionAttributeNames": {
                "#pk": partition.attribute,
                "#shown": "assigned_to_name",
                "#id": "id",
            },
            "ExpressionAttributeValues": {":pk": av(partition.value), ":name": av(name)},
            "Limit": page_size,
        }
        with store_errors():
            for page in query_pages(self.client, **request):
                yield [int(item["id"]["N"]) for item in page.get("Items", [])]

    def _match_items(
        self, tenant_id: str, keys: Mapping[str, str], per_key: int
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each match key's first ``per_key`` index items, with its kind: one Query per key (the
        email's LOOKUP partition: whole leads and contacts; the other kinds' SEARCH match
        partitions: lead ids). Eventually consistent, as every index read."""
        for kind, value in keys.items():
            if kind == "email":
                partition = EmailLookup.partition(tenant_id, value)
            else:
                partition = LeadIndexKeys.match_partition(tenant_id, kind, value)
            for item in self._first_items(partition, per_key):
                yield kind, item

    def match_candidates(self, tenant_id: str, keys: Mapping[str, str], *, per_key: int) -> MatchCandidates:
        """The leads, and contacts, of the tenant that share a match key with ``keys``
        (``match_keys``: kind -> value), each key read by one Query of at most ``per_key`` items
        (``_match_items``); then one BatchGetItem of the leads only ids named (at most 100:
        those named by most keys first)."""
        leads: dict[int, Lead] = {}
        contacts: list[Contact] = []
        named: dict[int, int] = {}  # lead id -> how many keys named it
        for kind, item in self._match_items(tenant_id, keys, per_key):
            if kind != "email":
                lead_id = int(item["id"]["N"])
                named[lead_id] = named.get(lead_id, 0) + 1
            elif _is_contact(item):
                contacts.append(Contact.model_validate(stored_values(item)))
            else:
                lead = lead_from_item(item)
                leads[lead.id] = lead
        wanted = sorted((i for i in named if i not in leads), key=lambda i: (-named[i], i))
        if wanted:
            leads.update(self.get_many(tenant_id, wanted[:BATCH_GET_LIMIT]))
        return MatchCandidates(sorted(leads.values(), key=lambda lead: lead.id), contacts)

    def match_ids(self, tenant_id: str, keys: Mapping[str, str], *, per_key: int) -> list[MatchedRecord]:
        """Who shares a match key with ``keys``, and by which kinds, from the index items alone
        (``_match_items``: one Query per key, no read of the leads), in the order first named. A
        contact (found by email only: it has no phone or name entries) also shares its phone when
        it is the same, read from its LOOKUP item, as ``GET /leads/{id}/duplicates`` counts it."""
        found: dict[tuple[Literal["lead", "contact"], int], list[str]] = {}
        for kind, item in self._match_items(tenant_id, keys, per_key):
            if _is_contact(item):
                phone = phone_key(item.get("phone", {}).get("S"))
                also = ["phone"] if phone is not None and phone == keys.get("phone") else []
                found.setdefault(("contact", int(item["id"]["N"])), []).extend([kind, *also])
            else:
                found.setdefault(("lead", int(item["id"]["N"])), []).append(kind)
        return [MatchedRecord(kind, record_id, kinds) for (kind, record_id), kinds in found.items()]

    def _first_items(self, partition: IndexPartition, count: int) -> list[dict[str, Any]]:
        """The first ``count`` items of an index partition (one Query when they fit its page)."""
        pages = index_pages(self.client, self.table, partition, forward=True, count=count)
        return [item for page in pages for item in page]

    def get_many(self, tenant_id: str, lead_ids: Iterable[int]) -> dict[int, Lead]:
        keys = [LeadKeys.primary(tenant_id, lead_id) for lead_id in lead_ids]
        leads = (lead_from_item(item) for item in self.batch_get(keys, consistent=False))
        return {lead.id: lead for lead in leads}

    def page_without_entries(
        self, tenant_id: str, start: dict[str, Any] | None, limit: int
    ) -> tuple[int, list[Lead], dict[str, Any] | None]:
        """A page of the tenant's leads (``limit`` from its LIST index, after the key ``start``):
        how many were read, those stored without their index entries (read consistently), and
        the key the next page starts after (None: the last page)."""
        partition = LeadKeys.by_creation(tenant_id)
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": partition.index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": partition.attribute, "#id": "id"},
            "ExpressionAttributeValues": {":pk": av(partition.value)},
            "ProjectionExpression": "#id",
            "Limit": limit,
        }
        if start is not None:
            request["ExclusiveStartKey"] = start
        with store_errors():
            page = self.client.query(**request)
        ids = [int(item["id"]["N"]) for item in page.get("Items", [])]
        found = self.batch_get([LeadKeys.primary(tenant_id, lead_id) for lead_id in ids], consistent=True)
        without = [lead_from_item(item) for item in found if _entries_version(item) < ENTRIES_VERSION]
        return len(ids), sorted(without, key=lambda lead: lead.id), page.get("LastEvaluatedKey")

    def tenants_with_leads(self) -> list[str]:
        """The tenants that have a lead counters item, by a Scan of the whole table (a one-off
        job's read: the backfill's; never a request's)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "SK = :stats",
            "ExpressionAttributeValues": {":stats": av(LeadStatsKeys.SK)},
            "ProjectionExpression": "PK",
        }
        found: list[str] = []
        with store_errors():
            while True:
                page = self.client.scan(**request)
                found += [item["PK"]["S"].removeprefix("TENANT#") for item in page.get("Items", [])]
                if not page.get("LastEvaluatedKey"):
                    return sorted(found)
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def write_entries(self, lead: Lead) -> bool:
        """Write a stored lead's index entries and mark it so, in one transaction, on condition
        that it is still at ``lead.version`` and has none, or those of an older
        ``ENTRIES_VERSION`` (all of its entries are Put again): False when it was written (with
        its entries) or deleted meanwhile, or has them already."""
        mark = {
            "TableName": self.table,
            "Key": to_item(LeadKeys.primary(lead.tenant_id, lead.id)),
            "UpdateExpression": "SET #entries = :entries",
            "ConditionExpression": "#version = :version AND "
            "(attribute_not_exists(#entries) OR #entries < :entries)",
            "ExpressionAttributeNames": {"#entries": ENTRIES_MARKER, "#version": "version"},
            "ExpressionAttributeValues": {":entries": av(ENTRIES_VERSION), ":version": av(lead.version)},
        }
        items = [{"Update": mark}, *entry_writes(self.table, None, lead)]
        try:
            transient_retries(lambda: self.transact(items))
        except ConditionFailed:
            return False
        return True

    # ------------------------------------------------------------------ writes
    def reserve_ids(self, tenant_id: str, count: int = 1) -> int:
        """Take ``count`` ids atomically; returns the last one (the first is ``last - count + 1``)."""
        response = transient_retries(
            lambda: self.client.update_item(
                TableName=self.table,
                Key=to_item(LeadStatsKeys.primary(tenant_id)),
                UpdateExpression="ADD #seq :n",
                ExpressionAttributeNames={"#seq": LeadStatsKeys.SEQUENCE},
                ExpressionAttributeValues={":n": av(count)},
                ReturnValues="UPDATED_NEW",
            )
        )
        return int(response["Attributes"][LeadStatsKeys.SEQUENCE]["N"])

    def insert(
        self, lead: Lead, previous_seq: int | None, change: HistoryEntry, claims: KeyClaims | None = None
    ) -> None:
        """Write a new lead with its counters and its history's first ``change``, atomically.
        With ``previous_seq``, the lead's id must be the next of the sequence (``SequenceTaken``
        if another writer took it); without, the id was reserved with ``reserve_ids``. With
        ``claims``, the lead's match keys are held in the same transaction (``KeysClaimed``, and
        one consistent BatchGetItem of the holds, when another create holds one)."""
        deltas = counter_deltas(None, lead)
        if previous_seq is None:
            stats = stats_update(self.table, lead.tenant_id, deltas)
        else:
            stats = stats_update(
                self.table, lead.tenant_id, deltas, set_seq=lead.id, expected_seq=previous_seq
            )
        put = {
            "TableName": self.table,
            "Item": lead_to_item(lead),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        items = [
            {"Update": stats},
            {"Put": put},
            *entry_writes(self.table, None, lead),
            history_write(self.table, change),
        ]
        first_claim = len(items)
        if claims is not None:
            items += claim_writes(self.table, lead, claims)
        try:
            transient_retries(lambda: self.transact(items))
        except ConditionFailed as failed:
            if claims is not None and any(i >= first_claim for i in failed.failed_items()):
                raise KeysClaimed(self._claim_holders(lead, claims)) from failed
            raise SequenceTaken() from failed

    def _claim_holders(self, lead: Lead, claims: KeyClaims) -> dict[str, int]:
        """Which leads hold ``claims``' keys now (kind -> lead id), read consistently. A hold
        naming ``lead.id`` is another create's: ``lead.id`` is tentative (this transaction wrote
        nothing), and a create that read the same sequence took that id with its keys."""
        kinds = {DuplicateClaimKeys.primary(lead.tenant_id, k, v)["PK"]: k for k, v in claims.keys.items()}
        keys = [DuplicateClaimKeys.primary(lead.tenant_id, k, v) for k, v in claims.keys.items()]
        return {
            kinds[item["PK"]["S"]]: int(item["lead_id"]["N"])
            for item in self.batch_get(keys, consistent=True)
            if int(item["expires_at"]["N"]) >= claims.now
        }

    def replace(self, before: Lead, after: Lead, change: HistoryEntry) -> None:
        """Write ``after`` over ``before`` if the stored version is still ``before.version``, with
        the ``change`` it makes to the lead's history."""
        put = put_if_version(self.table, lead_to_item(after), before.version)
        self._write_with_counters(
            before.tenant_id,
            {"Put": put},
            counter_deltas(before, after),
            [*entry_writes(self.table, before, after), history_write(self.table, change)],
        )

    def convert(
        self,
        before: Lead,
        after: Lead,
        change: HistoryEntry,
        *,
        contact: Contact | None = None,
        company: Company | None = None,
        deal: Deal | None = None,
    ) -> None:
        """Qualify: ``after`` over ``before`` (if its version is still ``before.version``) with
        its history's ``change``, the counters, the new contact, company and deal (each on
        condition that its key is new) and the deal counted in its stage (on condition that the
        stage exists), all in one transaction: either everything is written or nothing is
        (``IdTaken`` when a condition other than the lead's failed)."""
        put = put_if_version(self.table, lead_to_item(after), before.version)
        records = [
            *([contact_to_item(contact)] if contact else []),
            *([company_to_item(company)] if company else []),
            *([deal_to_item(deal)] if deal else []),
        ]
        with_it = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for item in records
        ]
        if deal:
            with_it.append(deal_added(self.table, deal.tenant_id, deal.stage_id))
        with_it += [*entry_writes(self.table, before, after), history_write(self.table, change)]
        self._write_with_counters(before.tenant_id, {"Put": put}, counter_deltas(before, after), with_it)

    def delete(self, lead: Lead, children: Sequence[dict[str, str]] = ()) -> None:
        """Delete the lead (if its version is still ``lead.version``) with its counters and, in
        the same transaction, up to ``CHILDREN_IN_DELETE`` of its ``children`` (keys of its notes,
        tasks, ...); then sweep its partition of everything left (``sweep``)."""
        delete = delete_if_version(
            self.table, to_item(LeadKeys.primary(lead.tenant_id, lead.id)), lead.version
        )
        # Its index entries go with it (whichever exist); the other children, as many as fit.
        others = [key for key in children if not is_entry(key["SK"])]
        with_it = entry_writes(self.table, lead, None)
        with_it += [
            {"Delete": {"TableName": self.table, "Key": to_item(k)}} for k in others[:CHILDREN_IN_DELETE]
        ]
        self._write_with_counters(lead.tenant_id, {"Delete": delete}, counter_deltas(lead, None), with_it)
        self.batch_delete([to_item(key) for key in others[CHILDREN_IN_DELETE:]])
        self.sweep(lead.tenant_id, lead.id)

    def show_assignee_name(self, tenant_id: str, lead_id: int, user_id: int, name: str) -> bool:
        """Write ``name`` as the lead's ``assigned_to_name`` and move its version on (its ETag:
        the representation changed), on condition that the lead is still assigned to ``user_id``
        and does not show ``name`` already; ``updated_at`` stays (see ``directory_sync``). One
        UpdateItem of those two attributes only, so an edit written just before it is kept, and
        a read-then-write of the lead that started before it fails its version condition and
        reads again. False when the condition failed: the lead was reassigned or deleted
        meanwhile, or an earlier delivery wrote the name already.

        In the same transaction, the lead's ``assigned_to_name`` order entry takes the name's
        sort key in each BY index (an index ignores the key of a partition the entry is not in)."""
        lead = {
            "TableName": self.table,
            "Key": to_item(LeadKeys.primary(tenant_id, lead_id)),
            "UpdateExpression": "SET #shown = :name, #version = #version + :one",
            "ConditionExpression": f"#assignee = :user AND {_NOT_SHOWING}",
            "ExpressionAttributeNames": {
                "#shown": "assigned_to_name",
                "#version": "version",
                "#assignee": "assigned_to",
            },
            "ExpressionAttributeValues": {":name": av(name), ":one": av(1), ":user": av(user_id)},
        }
        sort_keys = [f"{index.name}SK" for index in ORDER_INDEXES]
        entry = {
            "TableName": self.table,
            "Key": to_item(LeadIndexKeys.order_entry(tenant_id, lead_id, "assigned_to_name")),
            "UpdateExpression": "SET " + ", ".join(f"{name} = :key" for name in sort_keys),
            "ExpressionAttributeValues": {":key": av(text_sort_key(name, lead_id))},
        }
        try:
            transient_retries(lambda: self.transact([{"Update": lead}, {"Update": entry}]))
        except ConditionFailed:
            return False
        return True

    def remove_leftovers(self, keys: Sequence[dict[str, str]]) -> None:
        """Delete what a lead's delete that died half-way left (its lead is gone already)."""
        self.batch_delete([to_item(key) for key in keys])

    def sweep(self, tenant_id: str, lead_id: int) -> int:
        """Delete whatever is left in a deleted lead's partition (its children beyond what the
        delete's transaction held, or written just before it). Nothing new can appear there:
        every child write checks, in its transaction, that the lead exists."""
        keys = self._partition(tenant_id, lead_id, keys_only=True)
        self.batch_delete(keys)
        return len(keys)

    def _write_with_counters(
        self,
        tenant_id: str,
        write: dict[str, Any],
        deltas: dict[str, int],
        with_it: Sequence[dict[str, Any]] = (),
    ) -> None:
        """One conditional write of a lead, in a transaction with its counters when they change
        (and the other writes ``with_it``). ``VersionConflict`` when the lead's own condition
        failed."""
        if deltas or with_it:
            items = [write, *with_it]
            if deltas:
                items.append({"Update": stats_update(self.table, tenant_id, deltas)})

            def call() -> Any:
                return self.transact(items)
        else:
            ((operation, request),) = write.items()
            method = self.client.put_item if operation == "Put" else self.client.delete_item

            def call() -> Any:
                return method(**request)

        try:
            transient_retries(call)
        except ConditionFailed as failed:
            if failed.failed_items() and 0 not in failed.failed_items():
                raise IdTaken() from failed
            raise VersionConflict() from failed
