"""In-memory stores with the behaviour the lead, qualify, notes and tasks rules rely on: conditional
writes on ``version``, ids from sequences, counters, and transactions that write everything or
nothing. The rules run against them in milliseconds; the emulator proves the real stores
(tests/integration), and tests/unit/test_fake_store.py keeps these fakes' methods those of the
real stores.

One ``FakeTable`` holds what a tenant's table would; each fake store is a view of it, as each
real store is of the one DynamoDB table. Faults a test may inject:

- ``table.before_write``: called with the write's name before each write (a concurrent writer);
- ``table.lost_answers``: this many next successful lead writes answer ``VersionConflict``, as
  the SDK's retry of a write whose answer was lost finds the version it had just written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leads_shared.data.activity_store import ChildConflict, LeadGone
from leads_shared.data.lead_counters import LeadStats, counter_deltas
from leads_shared.data.lead_store import (
    IdTaken,
    KeyClaims,
    KeysClaimed,
    LeadActivity,
    LeadRemains,
    MatchCandidates,
    MatchedRecord,
    SequenceTaken,
)
from leads_shared.data.trash_store import NotInTrash
from leads_shared.data.writes import VersionConflict
from leads_shared.match_keys import email_key, lead_match_keys, phone_key
from leads_shared.models.activities import Note, Task
from leads_shared.models.directory import DealStage, User
from leads_shared.models.emails import EmailLink
from leads_shared.models.history import HistoryEntry
from leads_shared.models.leads import Lead, TrashedLead
from leads_shared.models.records import Company, Contact, Deal
from tests.support.fake_directory import FakeDirectory

# A lead's child as ``get_with_children`` names it: its kind and its key in that kind's dict.
Child = tuple[str, tuple[str, int, int]]


@dataclass
class FakeTable:
    leads: dict[tuple[str, int], Lead] = field(default_factory=dict)
    trash: dict[tuple[str, int], TrashedLead] = field(default_factory=dict)
    lead_seq: dict[str, int] = field(default_factory=dict)
    counters: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: dict[tuple[str, int, int], Note] = field(default_factory=dict)
    tasks: dict[tuple[str, int, int], Task] = field(default_factory=dict)
    links: dict[tuple[str, int, int], EmailLink] = field(default_factory=dict)
    # A lead's history, by (tenant, lead, order written).
    history: dict[tuple[str, int, int], HistoryEntry] = field(default_factory=dict)
    sequences: dict[tuple[str, str], int] = field(default_factory=dict)
    contacts: dict[tuple[str, int], Contact] = field(default_factory=dict)
    companies: dict[tuple[str, int], Company] = field(default_factory=dict)
    deals: dict[tuple[str, int], Deal] = field(default_factory=dict)
    # Match keys held by creates that refuse duplicates: (tenant, kind, value) -> (lead id, expiry).
    claims: dict[tuple[str, str, str], tuple[int, int]] = field(default_factory=dict)
    # Captured emails' summaries, per (tenant, lower-cased address).
    captured: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    directory: FakeDirectory = field(default_factory=FakeDirectory)
    before_write: Callable[[str], None] | None = None
    lost_answers: int = 0
    writes: list[str] = field(default_factory=list)

    def write(self, name: str) -> None:
        if self.before_write is not None:
            self.before_write(name)

    def done(self, name: str) -> None:
        """A lead write committed; its answer may be lost."""
        self.writes.append(name)
        if self.lost_answers:
            self.lost_answers -= 1
            raise VersionConflict()

    def record(self, change: HistoryEntry) -> None:
        """The history entry a lead write records with it."""
        self.history[(change.tenant_id, change.lead_id, len(self.history))] = change

    def count(self, tenant_id: str, deltas: Mapping[str, int]) -> None:
        counters = self.counters.setdefault(tenant_id, {})
        for name, delta in deltas.items():
            counters[name] = counters.get(name, 0) + delta

    def next_id(self, tenant_id: str, kind: str, count: int = 1) -> int:
        last = self.sequences.get((tenant_id, kind), 0) + count
        self.sequences[(tenant_id, kind)] = last
        return last


class FakeLeadStore:
    def __init__(self, table: FakeTable) -> None:
        self.t = table

    # reads
    def get(self, tenant_id: str, lead_id: int) -> Lead | None:
        return self.t.leads.get((tenant_id, lead_id))

    def match_candidates(self, tenant_id: str, keys: Mapping[str, str], *, per_key: int) -> MatchCandidates:
        """The tenant's live leads sharing a key (each key's first ``per_key`` by id) and, by
        email, its contacts: what the indexes hold once they caught up."""
        leads: dict[int, Lead] = {}
        for kind, value in keys.items():
            same = [
                lead
                for (t, _), lead in sorted(self.t.leads.items())
                if t == tenant_id and lead_match_keys(lead).get(kind) == value
            ]
            leads.update((lead.id, lead) for lead in same[:per_key])
        contacts = [
            contact
            for (t, _), contact in sorted(self.t.contacts.items())
            if t == tenant_id and "email" in keys and email_key(contact.email) == keys["email"]
        ]
        return MatchCandidates(sorted(leads.values(), key=lambda lead: lead.id), contacts[:per_key])

    def match_ids(self, tenant_id: str, keys: Mapping[str, str], *, per_key: int) -> list[MatchedRecord]:
        """Who shares each key (its first ``per_key`` by id) and by which kinds, as the indexes
        name them once they caught up (contacts by email only)."""
        found: dict[tuple[str, int], list[str]] = {}
        for kind, value in keys.items():
            leads = [
                ("lead", lead.id)
                for (t, _), lead in sorted(self.t.leads.items())
                if t == tenant_id and lead_match_keys(lead).get(kind) == value
            ]
            contacts = [
                ("contact", contact.id)
                for (t, _), contact in sorted(self.t.contacts.items())
                if t == tenant_id and kind == "email" and email_key(contact.email) == value
            ]
            for record in [*leads, *contacts][:per_key]:
                found.setdefault(record, []).append(kind)
                if record[0] == "contact":  # its LOOKUP item shows its phone too
                    phone = phone_key(self.t.contacts[(tenant_id, record[1])].phone)
                    if phone is not None and phone == keys.get("phone"):
                        found[record].append("phone")
        return [MatchedRecord(kind, record_id, kinds) for (kind, record_id), kinds in found.items()]

    def get_with_notes(self, tenant_id: str, lead_id: int) -> tuple[Lead | None, list[Note]]:
        lead = self.get(tenant_id, lead_id)
        if lead is None:
            return None, []
        notes = [
            n for (t, lead_of, _), n in sorted(self.t.notes.items()) if (t, lead_of) == (tenant_id, lead_id)
        ]
        return lead, list(reversed(notes))

    def get_with_user(
        self, tenant_id: str, lead_id: int, user_id: int | None
    ) -> tuple[Lead | None, User | None]:
        user = self.t.directory.user(tenant_id, user_id) if user_id is not None else None
        return self.get(tenant_id, lead_id), user

    def _of(self, stored: Mapping[tuple[str, int, int], Any], tenant_id: str, lead_id: int) -> list[Any]:
        return [child for key, child in sorted(stored.items()) if key[:2] == (tenant_id, lead_id)]

    def history(self, tenant_id: str, lead_id: int) -> tuple[Lead | None, list[HistoryEntry]]:
        lead = self.get(tenant_id, lead_id)
        return lead, (self._of(self.t.history, tenant_id, lead_id) if lead else [])

    def activity(self, tenant_id: str, lead_id: int) -> LeadActivity:
        t = self.t
        return LeadActivity(
            self.get(tenant_id, lead_id),
            self._of(t.history, tenant_id, lead_id),
            self._of(t.notes, tenant_id, lead_id),
            self._of(t.tasks, tenant_id, lead_id),
            self._of(t.links, tenant_id, lead_id),
        )

    def get_with_children(self, tenant_id: str, lead_id: int) -> LeadRemains:
        children = [
            (kind, key)
            for kind, stored in self._children().items()
            for key in stored
            if key[:2] == (tenant_id, lead_id)
        ]
        trashed = (tenant_id, lead_id) in self.t.trash
        return LeadRemains(self.get(tenant_id, lead_id), trashed, children)

    def _children(self) -> dict[str, dict[tuple[str, int, int], Any]]:
        return {"note": self.t.notes, "task": self.t.tasks, "link": self.t.links, "change": self.t.history}

    def stats(self, tenant_id: str) -> LeadStats:
        return LeadStats(self.t.lead_seq.get(tenant_id, 0), dict(self.t.counters.get(tenant_id, {})))

    def stats_with_user(self, tenant_id: str, user_id: int | None) -> tuple[LeadStats, User | None]:
        user = self.t.directory.user(tenant_id, user_id) if user_id is not None else None
        return self.stats(tenant_id), user

    # writes
    def reserve_ids(self, tenant_id: str, count: int = 1) -> int:
        self.t.lead_seq[tenant_id] = self.t.lead_seq.get(tenant_id, 0) + count
        return self.t.lead_seq[tenant_id]

    def insert(
        self, lead: Lead, previous_seq: int | None, change: HistoryEntry, claims: KeyClaims | None = None
    ) -> None:
        self.t.write("insert")
        held = {}
        for kind, value in (claims.keys if claims else {}).items():
            holder, expires_at = self.t.claims.get((lead.tenant_id, kind, value), (None, 0))
            if holder is not None and expires_at >= claims.now and holder != claims.stale.get(kind):
                held[kind] = holder
        if held:
            raise KeysClaimed(held)
        taken = previous_seq is not None and self.t.lead_seq.get(lead.tenant_id, 0) != previous_seq
        if taken or (lead.tenant_id, lead.id) in self.t.leads:
            raise SequenceTaken()
        for kind, value in (claims.keys if claims else {}).items():
            self.t.claims[(lead.tenant_id, kind, value)] = (lead.id, claims.expires_at)
        if previous_seq is not None:
            self.t.lead_seq[lead.tenant_id] = lead.id
        self.t.leads[(lead.tenant_id, lead.id)] = lead
        self.t.count(lead.tenant_id, counter_deltas(None, lead))
        self.t.record(change)
        self.t.writes.append("insert")

    def _check_version(self, before: Lead) -> None:
        stored = self.get(before.tenant_id, before.id)
        if stored is None or stored.version != before.version:
            raise VersionConflict()

    def replace(self, before: Lead, after: Lead, change: HistoryEntry) -> None:
        self.t.write("replace")
        self._check_version(before)
        self.t.leads[(after.tenant_id, after.id)] = after
        self.t.count(after.tenant_id, counter_deltas(before, after))
        self.t.record(change)
        self.t.done("replace")

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
        """All or nothing, as the real transaction: every condition is checked before anything is written."""
        self.t.write("convert")
        self._check_version(before)
        tenant = before.tenant_id
        if (
            (contact and (tenant, contact.id) in self.t.contacts)
            or (company and (tenant, company.id) in self.t.companies)
            or (deal and (tenant, deal.id) in self.t.deals)
            or (deal and self.t.directory.stage(tenant, deal.stage_id) is None)
        ):
            raise IdTaken()
        self.t.leads[(tenant, after.id)] = after
        self.t.count(tenant, counter_deltas(before, after))
        self.t.record(change)
        if contact:
            self.t.contacts[(tenant, contact.id)] = contact
        if company:
            self.t.companies[(tenant, company.id)] = company
        if deal:
            self.t.deals[(tenant, deal.id)] = deal
            self.t.directory.count_deal(tenant, deal.stage_id)
        self.t.done("convert")

    def delete(self, lead: Lead, children: Sequence[Child] = ()) -> None:
        self.t.write("delete")
        self._check_version(lead)
        del self.t.leads[(lead.tenant_id, lead.id)]
        self.t.count(lead.tenant_id, counter_deltas(lead, None))
        self.remove_leftovers(children)
        self.t.writes.append("delete")

    def remove_leftovers(self, keys: Sequence[Child]) -> None:
        for kind, key in keys:
            self._children()[kind].pop(key, None)


class FakeTrashStore:
    def __init__(self, table: FakeTable) -> None:
        self.t = table

    def trash(self, lead: Lead, trashed: TrashedLead, change: HistoryEntry) -> None:
        self.t.write("trash")
        stored = self.t.leads.get((lead.tenant_id, lead.id))
        if stored is None or stored.version != lead.version:
            raise VersionConflict()
        del self.t.leads[(lead.tenant_id, lead.id)]
        self.t.trash[(lead.tenant_id, lead.id)] = trashed
        self.t.count(lead.tenant_id, counter_deltas(lead, None))
        self.t.record(change)
        self.t.writes.append("trash")

    def trashed(self, tenant_id: str, lead_id: int) -> TrashedLead | None:
        return self.t.trash.get((tenant_id, lead_id))

    def restore(self, trashed: TrashedLead, lead: Lead, change: HistoryEntry) -> None:
        self.t.write("restore")
        if self.t.trash.get((lead.tenant_id, lead.id)) != trashed:
            raise NotInTrash()
        del self.t.trash[(lead.tenant_id, lead.id)]
        self.t.leads[(lead.tenant_id, lead.id)] = lead
        self.t.count(lead.tenant_id, counter_deltas(None, lead))
        self.t.record(change)
        self.t.writes.append("restore")

    def page(
        self, tenant_id: str, deleted_by: int | None, *, count: int, after: tuple[str, int] | None
    ) -> tuple[list[TrashedLead], bool]:
        found = sorted(
            (
                trashed
                for (tenant, _), trashed in self.t.trash.items()
                if tenant == tenant_id and deleted_by in (None, trashed.deleted_by)
            ),
            key=lambda trashed: (trashed.deleted_at, trashed.lead.id),
            reverse=True,
        )
        if after is not None:
            found = [t for t in found if (t.deleted_at, t.lead.id) < (after[0].rsplit("#", 1)[0], after[1])]
        return found[:count], len(found) > count

    def purge(self, tenant_id: str, lead_id: int, children: Sequence[Child]) -> None:
        for kind, key in children:
            FakeLeadStore(self.t)._children()[kind].pop(key, None)
        self.t.trash.pop((tenant_id, lead_id), None)


class FakeActivityStore:
    def __init__(self, table: FakeTable) -> None:
        self.t = table

    def _add[C: (Note, Task)](self, children: dict[tuple[str, int, int], C], child: C) -> None:
        self.t.write("add")
        if (child.tenant_id, child.lead_id) not in self.t.leads:
            raise LeadGone()
        if (child.tenant_id, child.lead_id, child.id) in children:
            raise ChildConflict()
        children[(child.tenant_id, child.lead_id, child.id)] = child

    def add_note(self, note: Note) -> None:
        self._add(self.t.notes, note)

    def add_task(self, task: Task) -> None:
        self._add(self.t.tasks, task)

    def note(self, tenant_id: str, lead_id: int, note_id: int) -> Note | None:
        return self.t.notes.get((tenant_id, lead_id, note_id))

    def remove_note(self, tenant_id: str, lead_id: int, note_id: int) -> None:
        if (tenant_id, lead_id) not in self.t.leads or self.t.notes.pop(
            (tenant_id, lead_id, note_id), None
        ) is None:
            raise ChildConflict()

    def remove_task(self, tenant_id: str, lead_id: int, task_id: int) -> None:
        if (tenant_id, lead_id) not in self.t.leads or self.t.tasks.pop(
            (tenant_id, lead_id, task_id), None
        ) is None:
            raise ChildConflict()

    def tasks(self, tenant_id: str, lead_id: int) -> list[Task] | None:
        if (tenant_id, lead_id) not in self.t.leads:
            return None
        return [
            task for (t, lead_of, _), task in self.t.tasks.items() if (t, lead_of) == (tenant_id, lead_id)
        ]

    def task_with_references(
        self, tenant_id: str, lead_id: int, task_id: int | None, references: Mapping[str, int]
    ) -> tuple[Task | None, dict[str, dict[str, Any]]]:
        task = self.t.tasks.get((tenant_id, lead_id, task_id)) if task_id is not None else None
        if (tenant_id, lead_id) not in self.t.leads:
            task = None
        tables: dict[str, Callable[[int], Any]] = {
            "assigned_to": lambda i: self.t.directory.user(tenant_id, i),
            "contact_id": lambda i: self.t.contacts.get((tenant_id, i)),
            "company_id": lambda i: self.t.companies.get((tenant_id, i)),
            "deal_id": lambda i: self.t.deals.get((tenant_id, i)),
        }
        found = {name: tables[name](value) for name, value in references.items()}
        return task, {name: record.model_dump() for name, record in found.items() if record is not None}

    def replace_task(self, before: Task, after: Task) -> None:
        self.t.write("replace_task")
        stored = self.t.tasks.get((before.tenant_id, before.lead_id, before.id))
        if stored is None or stored.version != before.version:
            raise VersionConflict()
        self.t.tasks[(after.tenant_id, after.lead_id, after.id)] = after


class FakeRecordStore:
    def __init__(self, table: FakeTable) -> None:
        self.t = table

    def reserve(self, tenant_id: str, kinds: Sequence[str]) -> dict[str, int]:
        return {kind: self.t.next_id(tenant_id, kind) for kind in kinds}

    def contact(self, tenant_id: str, contact_id: int) -> Contact | None:
        return self.t.contacts.get((tenant_id, contact_id))

    def company(self, tenant_id: str, company_id: int) -> Company | None:
        return self.t.companies.get((tenant_id, company_id))

    def deal(self, tenant_id: str, deal_id: int) -> Deal | None:
        return self.t.deals.get((tenant_id, deal_id))


class FakeMailStore:
    """What linking captured emails to a lead uses of the MailStore."""

    def __init__(self, table: FakeTable) -> None:
        self.t = table

    def emails_sent_to(self, tenant_id: str, address: str) -> list[dict[str, Any]]:
        return list(self.t.captured.get((tenant_id, address.strip().lower()), []))

    def add_link(self, link: EmailLink) -> bool:
        if (link.tenant_id, link.lead_id) not in self.t.leads:
            raise LeadGone()
        if (link.tenant_id, link.lead_id, link.id) in self.t.links:
            return False
        self.t.links[(link.tenant_id, link.lead_id, link.id)] = link
        return True


class FakeStages(FakeDirectory):
    """The directory with deal stages (qualify's deals go in one)."""

    def __init__(self) -> None:
        super().__init__()
        self._stages: dict[tuple[str, int], DealStage] = {}
        self.deal_counts: dict[tuple[str, int], int] = {}

    def stages(self, tenant_id: str) -> list[DealStage]:
        found = [s for (t, _), s in self._stages.items() if t == tenant_id]
        return sorted(found, key=lambda s: (s.position, s.id))

    def stage(self, tenant_id: str, stage_id: int) -> DealStage | None:
        return self._stages.get((tenant_id, stage_id))

    def create_pipeline(self, tenant_id: str, stages: Sequence[DealStage]) -> bool:
        if self.stages(tenant_id):
            return False
        for number, stage in enumerate(stages, start=1):
            self._stages[(tenant_id, number)] = stage.model_copy(update={"id": number})
        return True

    def remove_stage(self, tenant_id: str, stage_id: int) -> None:
        """A concurrent admin deleting the stage (a test's fault, not a store method)."""
        del self._stages[(tenant_id, stage_id)]

    def count_deal(self, tenant_id: str, stage_id: int) -> None:
        self.deal_counts[(tenant_id, stage_id)] = self.deal_counts.get((tenant_id, stage_id), 0) + 1


@dataclass
class FakeStores:
    """Every fake over one table, as a test wires them into the rules."""

    table: FakeTable
    leads: FakeLeadStore
    activities: FakeActivityStore
    records: FakeRecordStore
    mail: FakeMailStore
    directory: FakeStages
    trash: FakeTrashStore

    @classmethod
    def new(cls) -> FakeStores:
        directory = FakeStages()
        table = FakeTable(directory=directory)
        return cls(
            table,
            FakeLeadStore(table),
            FakeActivityStore(table),
            FakeRecordStore(table),
            FakeMailStore(table),
            directory,
            FakeTrashStore(table),
        )
