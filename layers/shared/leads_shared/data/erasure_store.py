"""DynamoDB access for erasures on request (``erasure``): what holds an address (found through
indexes, never by reading the tenant), the removals that are not a lead's (contacts, captured
emails with their links and participants, form submissions, merged-away leads), the redaction of
history entries and merge records, and the receipts (``ErasureKeys``). A live or trashed lead
with the address goes through the recycle bin's removal for good
(``recycle_bin.remove_for_good``), not through here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leads_shared.data.dynamo import TableStore, av, query_pages, store_errors, stored_values, to_item
from leads_shared.data.history_items import history_from_item, history_to_item
from leads_shared.data.index_pages import index_pages
from leads_shared.data.merge_store import MergedLead, merged_from_item, record_from_item, record_to_item
from leads_shared.data.writes import ConditionFailed, transient_retries
from leads_shared.errors import Conflict
from leads_shared.keys import (
    ContactKeys,
    DuplicateClaimKeys,
    EmailLookup,
    ErasureKeys,
    FormKeys,
    LeadHistoryKeys,
    LeadKeys,
    MailKeys,
    MergeKeys,
    PastEmailKeys,
    TrashKeys,
)
from leads_shared.match_keys import email_key
from leads_shared.models.emails import EmailLink
from leads_shared.models.privacy import ErasureReceipt, FormSubmissionRef

if TYPE_CHECKING:
    from collections.abc import Iterable

    from leads_shared.keys import IndexPartition
    from leads_shared.models.history import HistoryEntry
    from leads_shared.models.merges import MergeRecord

RECEIPT_ENTITY = "erasure_receipt"


@dataclass(frozen=True)
class SubmissionKey:
    ref: FormSubmissionRef
    key: dict[str, str]  # the submission item's table key


@dataclass(frozen=True)
class AddressHolders:
    """What of a tenant holds one address (``ErasureStore.holders``), each list by id."""

    leads: list[int]  # live leads with it as their email (LOOKUP)
    contacts: list[int]  # contacts with it (LOOKUP)
    trashed_leads: list[int]  # leads in the recycle bin with it (the tenant's trash)
    past_leads: list[int]  # leads whose email changed away from it (PAST), live or trashed
    emails: list[int]  # captured emails with it on From, To or Cc (MAILTO)
    submissions: list[SubmissionKey]  # form submissions with it (SUBMITTED)


@dataclass
class LeadItems:
    """What an erasure reads of one lead's partition (``ErasureStore.lead_items``)."""

    lead_id: int
    history: list[HistoryEntry] = field(default_factory=list)  # oldest first
    links: list[EmailLink] = field(default_factory=list)
    merged: MergedLead | None = None  # its MERGED item: merged away
    records: list[MergeRecord] = field(default_factory=list)  # its merges, as the survivor
    live_or_trashed: bool = False


def receipt_to_item(receipt: ErasureReceipt) -> dict[str, Any]:
    assert receipt.erasure_id is not None
    keys = ErasureKeys.all_keys(receipt.tenant_id, receipt.erasure_id, receipt.requested_at)
    return to_item({**receipt.model_dump(), **keys, "entity": RECEIPT_ENTITY})


def receipt_of(values: dict[str, Any]) -> ErasureReceipt:
    """A receipt from its item's own attributes."""
    return ErasureReceipt.model_validate({k: v for k, v in values.items() if k != "entity"})


class ErasureStore(TableStore):
    # ------------------------------------------------------------------ finding
    def holders(self, tenant_id: str, address: str) -> AddressHolders:
        """Everything of the tenant that holds ``address`` (lower-cased): a Query of its LOOKUP
        partition, of its PAST, MAILTO and SUBMITTED partitions, and of the tenant's trash (at
        most 30 days of deletions: a trashed lead has no LOOKUP key; its email is compared here,
        ignoring case)."""
        leads, contacts = self._with_email(tenant_id, address)
        past = {int(item["id"]["N"]) for item in self._all(PastEmailKeys.of_address(tenant_id, address))}
        trashed = {
            int(item["id"]["N"])
            for item in self._all(TrashKeys.of_tenant(tenant_id))
            if email_key(item.get("email", {}).get("S")) == address
        }
        emails = {
            int(item["id"]["N"]) for item in self._partition_items(MailKeys.sent_to(tenant_id, address))
        }
        submissions = []
        for item in self._all(FormKeys.submitted_by(tenant_id, address)):
            form_id = int(item["SEARCHSK"]["S"].partition("#")[0])
            ref = FormSubmissionRef(form_id=form_id, id=item["id"]["S"])
            submissions.append(SubmissionKey(ref, {"PK": item["PK"]["S"], "SK": item["SK"]["S"]}))
        return AddressHolders(
            leads=sorted(leads),
            contacts=sorted(contacts),
            trashed_leads=sorted(trashed),
            past_leads=sorted(past),
            emails=sorted(emails),
            submissions=sorted(submissions, key=lambda found: (found.ref.form_id, found.key["SK"])),
        )

    def _with_email(self, tenant_id: str, address: str) -> tuple[set[int], set[int]]:
        """Ids of the tenant's leads and contacts whose email is ``address`` (LOOKUP)."""
        leads: set[int] = set()
        contacts: set[int] = set()
        for item in self._all(EmailLookup.partition(tenant_id, address)):
            entity = item.get("entity", {}).get("S")
            (contacts if entity == "contact" else leads).add(int(item["id"]["N"]))
        return leads, contacts

    def _all(self, partition: IndexPartition) -> list[dict[str, Any]]:
        pages = index_pages(self.client, self.table, partition, forward=True, count=None)
        return [item for page in pages for item in page]

    def _partition_items(self, pk: str, *, between: tuple[str, str] | None = None) -> list[dict[str, Any]]:
        """A partition of the table (or its sort keys ``between`` two), consistently."""
        condition = "PK = :pk"
        values = {":pk": av(pk)}
        if between:
            condition += " AND SK BETWEEN :low AND :high"
            values.update({":low": av(between[0]), ":high": av(between[1])})
        request = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        with store_errors():
            return [item for page in query_pages(self.client, **request) for item in page.get("Items", [])]

    # ------------------------------------------------------------------ a lead's partition
    def lead_items(self, tenant_id: str, lead_id: int) -> LeadItems:
        """What of a lead's partition an erasure reads or rewrites, in one Query of the whole
        partition (a lead's, not the tenant's: bounded by its notes, tasks and history)."""
        items = self._partition_items(LeadKeys.pk(tenant_id, lead_id))
        found = LeadItems(lead_id=lead_id)
        for item in items:
            sort_key = item["SK"]["S"]
            if sort_key.startswith(LeadHistoryKeys.PREFIX):
                found.history.append(history_from_item(item))
            elif sort_key.startswith(LeadKeys.EMAIL):
                found.links.append(EmailLink.model_validate(stored_values(item)))
            elif sort_key == MergeKeys.MERGED:
                found.merged = merged_from_item(item)
            elif sort_key.startswith(MergeKeys.RECORD):
                found.records.append(record_from_item(item))
            elif sort_key in (LeadKeys.SK, TrashKeys.SK):
                found.live_or_trashed = True
        return found

    def merge_records(self, tenant_id: str, lead_id: int) -> list[MergeRecord]:
        """The lead's merge records (as a survivor): one Query of ``MERGE#``."""
        items = self._partition_items(
            LeadKeys.pk(tenant_id, lead_id), between=(MergeKeys.RECORD, f"{MergeKeys.RECORD}~")
        )
        return [record_from_item(item) for item in items]

    def redact_record(self, record: MergeRecord, status: str) -> None:
        """Write a redacted merge record over its stored one, if that is still there and still at
        ``status`` (an undo or a merge's step that went on meanwhile: ``Conflict``, and a retry
        of the erasure reads it again)."""
        item = record_to_item(record)
        request = {
            "TableName": self.table,
            "Item": item,
            "ConditionExpression": "attribute_exists(PK) AND #status = :seen",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":seen": av(status)},
        }
        try:
            transient_retries(lambda: self.client.put_item(**request))
        except ConditionFailed as failed:
            raise Conflict("A merge of these leads changed meanwhile. Please retry the erasure.") from failed

    def remove_merged_lead(self, tenant_id: str, lead_id: int) -> None:
        """A merged-away lead's partition for good (its ``MERGED`` item, history, the email links
        its merge left, merge records, past-email items, emails logged by hand on it): all but
        its past-email items, then its ``MERGED`` item, then those (what finds it again, for a
        retry). A partition with a live or trashed lead (an undo brought it back meanwhile) is
        left: that lead is found by its own keys."""
        items = self._partition_items(LeadKeys.pk(tenant_id, lead_id))
        keys = [{"PK": item["PK"]["S"], "SK": item["SK"]["S"]} for item in items]
        if any(key["SK"] in (LeadKeys.SK, TrashKeys.SK) for key in keys):
            return
        logged = [
            MailKeys.primary(tenant_id, int(item["id"]["N"]))
            for item in items
            if item["SK"]["S"].startswith(LeadKeys.EMAIL) and item.get("source", {}).get("S") == "logged"
        ]
        past = [key for key in keys if key["SK"].startswith(PastEmailKeys.PREFIX)]
        merged = [key for key in keys if key["SK"] == MergeKeys.MERGED]
        rest = [key for key in keys if key not in past and key not in merged]
        for batch in ([*logged, *rest], merged, past):
            if batch:
                self._delete_keys(batch)

    # ------------------------------------------------------------------ redactions
    def rewrite_history(self, entry: HistoryEntry) -> None:
        """Write a redacted entry over its stored one, if that still exists (TTL may have taken
        it meanwhile: then nothing is written)."""
        self._put_if(history_to_item(entry), "attribute_exists(PK)")

    def forget_past_email(self, tenant_id: str, lead_id: int, address: str) -> None:
        """Delete the lead's past-email item of ``address`` (its history no longer holds it)."""
        with store_errors():
            self.client.delete_item(
                TableName=self.table, Key=to_item(PastEmailKeys.entry(tenant_id, lead_id, address))
            )

    # ------------------------------------------------------------------ removals
    def remove_contact(self, tenant_id: str, contact_id: int) -> None:
        """The contact item (its LOOKUP key is its own: it goes with it)."""
        with store_errors():
            self.client.delete_item(
                TableName=self.table, Key=to_item(ContactKeys.primary(tenant_id, contact_id))
            )

    def remove_email(
        self, tenant_id: str, email_id: int, addresses: Iterable[str], message_id: str | None, erased: str
    ) -> None:
        """A captured email for good: its links to leads (its SEARCH partition; and, for links
        written before that index, the links of the leads that have one of its ``addresses``
        now), the participant items of its ``addresses``, its Message-ID marker and the email
        item, then the participant item of the ``erased`` address, each after the one before: a
        retry after a crash finds the email again (through that participant item) and what it
        needs to remove it (the email item names its addresses and Message-ID)."""
        others = sorted({a.strip().lower() for a in addresses if a and a.strip()} - {erased})
        keys = [
            {"PK": item["PK"]["S"], "SK": item["SK"]["S"]}
            for item in self._all(MailKeys.links_of(tenant_id, email_id))
        ]
        for address in [erased, *others]:
            leads, _ = self._with_email(tenant_id, address)
            keys += [LeadKeys.email_link(tenant_id, lead_id, email_id) for lead_id in sorted(leads)]
        keys += [MailKeys.participant(tenant_id, email_id, address) for address in others]
        if message_id:
            keys.append(MailKeys.message_marker(tenant_id, message_id))
        self._delete_keys(keys)
        self._delete_keys([MailKeys.primary(tenant_id, email_id)])
        self._delete_keys([MailKeys.participant(tenant_id, email_id, erased)])

    def remove_logged_email(self, tenant_id: str, lead_id: int, email_id: int) -> None:
        """An email logged by hand on a lead (it belongs to that lead): the email, then its link
        (last: it is all that finds the email, having no participant items, so a retry after a
        crash between the two finds the link again and takes it)."""
        self._delete_keys([MailKeys.primary(tenant_id, email_id)])
        self._delete_keys([LeadKeys.email_link(tenant_id, lead_id, email_id)])

    def forget_duplicate_claim(self, tenant_id: str, address: str) -> None:
        """Delete the hold a rejecting create put on the address's match key (``DuplicateClaimKeys``:
        its key is the SHA-256 of the address, which a list of addresses can be checked against;
        TTL removes it only up to days after its minute). Named by the address: no read."""
        with store_errors():
            self.client.delete_item(
                TableName=self.table, Key=to_item(DuplicateClaimKeys.primary(tenant_id, "email", address))
            )

    def remove_submission(self, key: dict[str, str]) -> None:
        self._delete_keys([key])

    def _delete_keys(self, keys: list[dict[str, str]]) -> None:
        """Delete items by key, each once (a batch refuses a key twice)."""
        unique = list({(key["PK"], key["SK"]): key for key in keys}.values())
        self.batch_delete([to_item(key) for key in unique])

    # ------------------------------------------------------------------ receipts
    def receipt(self, tenant_id: str, erasure_id: str) -> ErasureReceipt | None:
        found = self.get_values(ErasureKeys.receipt(tenant_id, erasure_id))
        return receipt_of(found) if found is not None else None

    def start(self, receipt: ErasureReceipt) -> bool:
        """Write the receipt of an erasure that begins, if its id is new (False: it exists)."""
        return self._put_if(receipt_to_item(receipt), "attribute_not_exists(PK)")

    def _put_if(self, item: dict[str, Any], condition: str) -> bool:
        """Put ``item`` if ``condition`` holds (False: it did not, nothing written)."""
        request = {"TableName": self.table, "Item": item, "ConditionExpression": condition}
        try:
            transient_retries(lambda: self.client.put_item(**request))
        except ConditionFailed:
            return False
        return True

    def save(self, receipt: ErasureReceipt) -> None:
        item = receipt_to_item(receipt)
        transient_retries(lambda: self.client.put_item(TableName=self.table, Item=item))

    def receipts(self, tenant_id: str, *, count: int, after: str | None) -> tuple[list[ErasureReceipt], bool]:
        """Up to ``count`` receipts of the tenant, newest first, after the one whose sort key is
        ``after``, and whether more follow (one read ahead)."""
        partition = ErasureKeys.of_tenant(tenant_id)
        start = None
        if after is not None:
            erasure_id = after.rpartition("#")[2]
            start = partition.start_after(ErasureKeys.receipt(tenant_id, erasure_id), after)
        pages = index_pages(self.client, self.table, partition, forward=False, count=count + 1, start=start)
        found = [receipt_of(stored_values(item)) for page in pages for item in page]
        return found[:count], len(found) > count
