"""Erasure on request (GDPR Art. 17, ``POST /privacy/erasure``): everything of a tenant that holds
one email address, removed for good, and a receipt that keeps no personal data.

What is found (through indexes: never by reading the tenant's leads), and what happens to it:

- **Leads** whose email is the address (any case; LOOKUP): removed for good as an admin's
  ``DELETE /leads/{id}?permanent=true`` removes them (``recycle_bin.remove_for_good``): the
  whole partition (notes, tasks, history, email links, index and match entries, past-email
  items, logged emails) and the lead's counts.
- **Leads in the recycle bin** with the address: a trashed lead has no LOOKUP key, so the
  tenant's trash (at most 30 days of deletions, one index partition) is read and each one's
  email compared; removed for good with its partition.
- **Contacts** with the address (LOOKUP): the contact item. A deal or task that names the
  contact keeps its id (no personal data; it then names nothing).
- **Captured emails** with the address on From, To or Cc (its participant items): the raw
  message in S3 (every version), the email, its links to any lead, its participant items, its
  Message-ID marker.
- **Form submissions** with the address (every submission with an email is indexed by it).
- **Emails logged by hand** on a lead that had the address, with it on From, To or Cc (logged
  emails have no participant items: they are found through that lead's links).
- **A duplicate claim** on the address (a rejecting create's hold: the SHA-256 of the address in
  its key, until TTL takes it): deleted, after the leads it may name.
- **History of other leads**: when a lead's email changes away from an address, the write puts
  a past-email item (``PastEmailKeys``) in the same transaction. Through it, the leads whose
  history holds the address are found; in each of their history entries, every old or new value
  that contains the address (any case) becomes ``"[erased]"``: the history keeps that a change
  happened, by whom and when, not the value. Then the past-email item goes.
- **Merges** (``merges``). A merge writes a past-email item of each merged-away lead's email
  (its ``MERGED`` item keeps the lead's values, for the undo, and no LOOKUP names it any more):
  a merged-away lead found through it whose email (when merged) was the address is the person's
  record and goes whole (one whose email had changed away before its merge is kept and
  redacted, as a live one is, with its survivor's partition); going whole: its partition
  (item, history, the links its merge left, its own merge records, past-email items). So do the
  leads merged into a lead that goes (found through its merge records: their values and
  children became its own, and their undo goes with it). The partitions of the leads that stay
  and hold the address as a merge left it (a lead found through its past email, the survivor
  each merged-away lead that goes was merged into, along the chain when that survivor was merged
  on) are redacted: history values as above, and the merge records' copies (the leads' values
  before the merge, the values the survivor took), which are marked ``erased_at``: such a merge
  can no longer be undone (409), as it would bring back what was erased; the emails logged by
  hand with the address that moved there with the merged lead go (as above).

Limits (said in docs/privacy.md): free text is not searched (a note, a task, a logged email's
body, a lead's other fields that mention the address: on a lead found through its past email,
history values containing the address are redacted, but not its current fields, nor the notes
and tasks a merged-away lead that goes had moved to its survivor; an email
logged by hand with the address on a lead that never had it is not found); history of
email changes made before the past-email items existed is not found; users of the tenant (the
directory) are not erased; files (imports, exports, error reports) are not rewritten: they
expire under the bucket's rules; submissions received before their index existed are not found.

**Retries.** Each removal is idempotent, and a receipt (``in_progress``) is written before any
removal with the ids found; with an ``Idempotency-Key``, the erasure's id is a digest of the
tenant, the key and the address, so a retry (after a crash, say) resumes that receipt: it removes
what is still found, and what the first attempt found but left half-removed (a lead whose item
went before its last children). A retry of a finished erasure answers its receipt. Without a
key, each request is an erasure of its own (a retry finds what is left and removes it).

**The receipt** (``ERASURE#``) holds the erasure id, who asked, when, the status, and the ids
of what went: no address, and no hash of it (with a key, the id is a digest of the key and the
address together, and the key is not kept).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leads_shared import list_cursors
from leads_shared.clock import utc_now
from leads_shared.errors import NotFound
from leads_shared.keys import ErasureKeys
from leads_shared.match_keys import email_key
from leads_shared.models.merges import MergeRecord
from leads_shared.models.privacy import (
    ErasedIds,
    ErasureReceipt,
    HistoryRedaction,
    MergeRedaction,
    Requester,
)
from leads_shared.recycle_bin import remove_for_good

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.config import Settings
    from leads_shared.data.blob_store import BlobStore
    from leads_shared.data.erasure_store import AddressHolders, ErasureStore, LeadItems
    from leads_shared.data.lead_store import LeadStore
    from leads_shared.data.mail_store import MailStore
    from leads_shared.data.trash_store import TrashStore
    from leads_shared.models.history import HistoryEntry
    from leads_shared.models.privacy import ErasureRequest

REDACTED = "[erased]"


@dataclass(frozen=True)
class ErasureStores:
    erasures: ErasureStore
    leads: LeadStore
    trash: TrashStore
    mail: MailStore
    blobs: BlobStore


# Characters that continue an address: before it, a local part's; after it, a domain's (a dot
# only when a label follows). "jane@x.com" is in "Jane <jane@x.com>", not in "mary.jane@x.com"
# nor in "jane@x.com.au": those are other people's addresses.
_LOCAL_CHARS = r"A-Za-z0-9.!#$%&'*+/=?^_`{|}~-"
_DOMAIN_CHARS = r"A-Za-z0-9-"


def holds_address(text: str, address: str) -> bool:
    """Whether ``text`` holds ``address`` (any case) as a whole address, not as part of another."""
    pattern = rf"(?<![{_LOCAL_CHARS}]){re.escape(address)}(?![{_DOMAIN_CHARS}]|\.[{_DOMAIN_CHARS}])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def redacted(value: Any, address: str) -> Any:
    """``value`` with every text that holds ``address`` (any case, as a whole address) replaced
    by ``REDACTED`` (in lists and objects too)."""
    if isinstance(value, str):
        return REDACTED if holds_address(value, address) else value
    if isinstance(value, list):
        return [redacted(part, address) for part in value]
    if isinstance(value, dict):
        return {name: redacted(part, address) for name, part in value.items()}
    return value


def redact_entry(entry: HistoryEntry, address: str) -> HistoryEntry | None:
    """The entry with the address blanked out of its old and new values (None: none held it)."""
    changes = [
        change.model_copy(update={"old": redacted(change.old, address), "new": redacted(change.new, address)})
        for change in entry.changes
    ]
    if changes == entry.changes:
        return None
    return entry.model_copy(update={"changes": changes})


def erasure_id_for(tenant_id: str, idempotency_key: str | None, address: str) -> str:
    """A new id; with a key, the same for the same tenant, key and address."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{tenant_id}\x00{idempotency_key}\x00{address}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ErasurePlan:
    holders: AddressHolders
    redactions: list[HistoryEntry]  # the redacted entries to write
    # Emails logged by hand on those leads with the address on From, To or Cc: (lead, email) ids.
    logged: list[tuple[int, int]] = field(default_factory=list)
    # Merged-away leads removed for good, each after those found through it (deepest first).
    merged_leads: list[int] = field(default_factory=list)
    # Merge records of leads that stay, with the address blanked out, and each one's status as read.
    records: list[tuple[MergeRecord, str]] = field(default_factory=list)
    # Leads that stay whose partitions are rewritten (their past email, their merges' survivors).
    redacted_leads: list[int] = field(default_factory=list)

    def ids(self) -> ErasedIds:
        holders = self.holders
        return ErasedIds(
            leads=holders.leads,
            trashed_leads=holders.trashed_leads,
            contacts=holders.contacts,
            emails=sorted({*holders.emails, *(email_id for _, email_id in self.logged)}),
            form_submissions=[found.ref for found in holders.submissions],
            history_entries_redacted=[
                HistoryRedaction(lead_id=entry.lead_id, version=entry.version) for entry in self.redactions
            ],
            merged_leads=sorted(self.merged_leads),
            merges_redacted=[
                MergeRedaction(survivor_id=record.survivor_id, merge_id=record.merge_id)
                for record, _ in self.records
            ],
        )

    @property
    def past_kept(self) -> list[int]:
        """The leads found through their past email that stay (their past-email item goes)."""
        return [lead_id for lead_id in self.holders.past_leads if lead_id in self.redacted_leads]


def redact_record(record: MergeRecord, address: str, now: str) -> MergeRecord | None:
    """The merge record with the address blanked out of its copies (the leads' values before
    the merge, the values the survivor took), marked as erased (None: it held none)."""
    values = record.model_dump()
    blanked = redacted(values, address)
    if blanked == values:
        return None
    return MergeRecord.model_validate({**blanked, "erased_at": now})


def plan(tenant_id: str, address: str, store: ErasureStore) -> ErasurePlan:
    """What holds the address (reads only): the holders' index Queries; the merge records of
    each lead that goes (the leads merged into it go too); the partition of each lead found
    through its past email (a merged-away one goes whole; any other keeps its values, its
    history and merge records are redacted and the emails logged on it with the address go),
    and of the survivors each merged-away lead that goes was merged into (redacted the same
    way: its values, emails and merge record live there)."""
    holders = store.holders(tenant_id, address)
    found = ErasurePlan(holders, [])
    gone = {*holders.leads, *holders.trashed_leads}
    kept: dict[int, LeadItems] = {}
    survivors: list[int] = []
    for lead_id in holders.past_leads:
        if lead_id in gone:
            continue
        items = store.lead_items(tenant_id, lead_id)
        merged_away = items.merged is not None and not items.live_or_trashed
        if merged_away and items.merged is not None and email_key(items.merged.lead.email) == address:
            _take_merged(items, found, gone, survivors, store)
            continue
        # Its email had changed away from the address before (a merged-away lead: before its
        # merge): kept as a live lead is, redacted; its survivor too (its emails moved there).
        kept[lead_id] = items
        if merged_away and items.merged is not None:
            survivors.append(items.merged.merged_into)
    for lead_id in sorted({*holders.leads, *holders.trashed_leads}):
        _take_merged_into(tenant_id, lead_id, store.merge_records(tenant_id, lead_id), found, gone, store)
    while survivors:  # the merged-away leads' survivors, along each chain of merges
        lead_id = survivors.pop(0)
        if lead_id in gone or lead_id in kept:
            continue
        kept[lead_id] = store.lead_items(tenant_id, lead_id)
        merged = kept[lead_id].merged
        if merged is not None and not kept[lead_id].live_or_trashed:
            survivors.append(merged.merged_into)  # its children moved on from there
    now = utc_now()
    for lead_id, items in kept.items():
        if lead_id in gone:
            continue
        found.redacted_leads.append(lead_id)
        for entry in items.history:
            redacted_entry = redact_entry(entry, address)
            if redacted_entry is not None:
                found.redactions.append(redacted_entry)
        for record in items.records:
            redacted_record = redact_record(record, address, now)
            if redacted_record is not None:
                found.records.append((redacted_record, record.status))
        found.logged.extend(
            (lead_id, link.id)
            for link in items.links
            if link.source == "logged"
            and address in {a.strip().lower() for a in [link.from_address or "", *link.to, *link.cc]}
        )
    return found


def _take_merged(
    items: LeadItems, found: ErasurePlan, gone: set[int], survivors: list[int], store: ErasureStore
) -> None:
    """A merged-away lead goes whole, after the leads merged into it; its survivor is redacted."""
    if items.lead_id in gone or items.merged is None:
        return
    gone.add(items.lead_id)
    survivors.append(items.merged.merged_into)
    _take_merged_into(items.merged.lead.tenant_id, items.lead_id, items.records, found, gone, store)
    found.merged_leads.append(items.lead_id)


def _take_merged_into(
    tenant_id: str,
    lead_id: int,
    records: list[MergeRecord],
    found: ErasurePlan,
    gone: set[int],
    store: ErasureStore,
) -> None:
    """The leads merged into a lead that goes (by a merge not undone, still merged by it): they
    go too, before it (their values and children became its own; their undo goes with it)."""
    for record in records:
        if record.status == "undone":
            continue
        for merged_id in record.merged_ids:
            if merged_id in gone:
                continue
            items = store.lead_items(tenant_id, merged_id)
            merged = items.merged
            if merged is None or items.live_or_trashed:
                continue
            if merged.merged_into == lead_id and merged.merge_id == record.merge_id:
                _take_merged(items, found, gone, [], store)


def _union(first: ErasedIds, second: ErasedIds) -> ErasedIds:
    """Each list of ids of both, once each, in order."""
    merged: dict[str, Any] = {}
    for name in ErasedIds.model_fields:
        values = [*getattr(first, name), *getattr(second, name)]
        merged[name] = list({repr(value): value for value in sorted(values, key=repr)}.values())
    for name in ("leads", "trashed_leads", "contacts", "emails", "merged_leads"):
        merged[name] = sorted(merged[name])
    return ErasedIds.model_validate(merged)


def erase(
    principal: Principal, request: ErasureRequest, idempotency_key: str | None, stores: ErasureStores
) -> ErasureReceipt:
    """Erase the address from the caller's tenant (a dry run: only say what would go)."""
    tenant_id = principal.tenant_id
    address = email_key(request.email) or ""
    found = plan(tenant_id, address, stores.erasures)
    receipt = ErasureReceipt(
        tenant_id=tenant_id,
        erasure_id=None,
        status="dry_run",
        requested_at=utc_now(),
        requested_by=Requester(id=principal.user_id, name=principal.name),
        erased=found.ids(),
    )
    if request.dry_run:
        return receipt
    receipt.erasure_id = erasure_id_for(tenant_id, idempotency_key, address)
    receipt.status = "in_progress"
    if not stores.erasures.start(receipt):
        earlier = stores.erasures.receipt(tenant_id, receipt.erasure_id)
        if earlier is not None and earlier.status == "done":
            return earlier
        if earlier is not None:  # a retry of an erasure that stopped half-way: resume it
            receipt = earlier.model_copy(update={"erased": _union(earlier.erased, receipt.erased)})
        stores.erasures.save(receipt)
    _remove(principal, address, found, receipt.erased, stores)
    done = receipt.model_copy(update={"status": "done", "completed_at": utc_now()})
    stores.erasures.save(done)
    return done


def _remove(
    principal: Principal, address: str, found: ErasurePlan, ids: ErasedIds, stores: ErasureStores
) -> None:
    """The removals, each idempotent and each after what was found through it: a lead's past
    email goes after its logged emails and history values; the leads last (a lead's item goes
    before its last children only when it has more than a transaction holds: the receipt's ids
    bring a keyed retry back to them)."""
    tenant_id, store = principal.tenant_id, stores.erasures
    for lead_id, email_id in found.logged:
        store.remove_logged_email(tenant_id, lead_id, email_id)
    for entry in found.redactions:
        store.rewrite_history(entry)
    for record, status in found.records:
        store.redact_record(record, status)
    for lead_id in found.past_kept:  # last of what the lead's past email finds
        store.forget_past_email(tenant_id, lead_id, address)
    # After the survivors they were found by: deepest first (a retry finds them again).
    for lead_id in [*found.merged_leads, *(i for i in ids.merged_leads if i not in found.merged_leads)]:
        store.remove_merged_lead(tenant_id, lead_id)
    for submission in found.holders.submissions:
        store.remove_submission(submission.key)
    logged = {email_id for _, email_id in found.logged}
    for email_id in (e for e in ids.emails if e not in logged):
        email = stores.mail.email(tenant_id, email_id)
        if email is None:  # removed by an earlier attempt, but for what it found it by
            store.remove_email(tenant_id, email_id, [], None, address)
            continue
        if email.s3_bucket and email.s3_key:
            stores.blobs.remove_every_version(email.s3_bucket, email.s3_key)
        addresses = [email.from_address or "", *email.to, *email.cc]
        store.remove_email(tenant_id, email_id, addresses, email.message_id, address)
    for contact_id in ids.contacts:
        store.remove_contact(tenant_id, contact_id)
    for lead_id in [*ids.leads, *ids.trashed_leads]:
        try:
            remove_for_good(principal, lead_id, stores.leads, stores.trash)
        except NotFound:  # gone already (a retry), its leftovers removed
            continue
    store.forget_duplicate_claim(tenant_id, address)  # after the leads it may name


@dataclass(frozen=True)
class ReceiptListing:
    receipts: list[ErasureReceipt]
    next_cursor: str | None


def list_receipts(
    principal: Principal, limit: int, cursor: str | None, store: ErasureStore, settings: Settings
) -> ReceiptListing:
    """A page of the tenant's erasure receipts, newest first (one Query, from the cursor)."""
    tenant_id = principal.tenant_id
    bound = list_cursors.binding(tenant_id, principal.user_id, {"list": "erasures"})
    found, next_cursor = list_cursors.keyed_page(
        cursor,
        bound,
        settings,
        lambda at: store.receipts(tenant_id, count=limit, after=at.sort_key if at else None),
        lambda last: (ErasureKeys.sort_key(last.requested_at, last.erasure_id or ""), 0),
    )
    return ReceiptListing(found, next_cursor)
