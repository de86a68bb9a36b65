"""DynamoDB access for emails: the email items, their participant items (LOOKUP: emails captured
for an address), the Message-ID markers that make a redelivery a no-op, the links of emails to
leads (in each lead's partition, written like notes: only while the lead exists), and the
record of rejected inbound messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leads_shared.data.activity_store import ActivityStore, ChildConflict, LeadGone, lead_exists
from leads_shared.data.dynamo import (
    av,
    from_item,
    query_pages,
    store_errors,
    stored_values,
    to_item,
)
from leads_shared.data.writes import ConditionFailed, transient_retries
from leads_shared.errors import StoreFailure
from leads_shared.keys import EmailLookup, LeadKeys, MailKeys
from leads_shared.models.emails import EmailLink, StoredEmail


class DuplicateMessage(Exception):
    """The tenant already has an email with this Message-ID: ``email_id`` is its id."""

    def __init__(self, email_id: int) -> None:
        super().__init__(f"email {email_id}")
        self.email_id = email_id


class EmailIdTaken(Exception):
    """An email exists under the new id already (the sequence is behind the data)."""


def email_to_item(email: StoredEmail) -> dict[str, Any]:
    return to_item({**email.model_dump(), **MailKeys.primary(email.tenant_id, email.id), "entity": "email"})


def link_to_item(link: EmailLink) -> dict[str, Any]:
    """The link in its lead's partition, in its email's partition of SEARCH (an erasure of the
    email finds every link through it)."""
    key = LeadKeys.email_link(link.tenant_id, link.lead_id, link.id)
    index = MailKeys.link_index_keys(link.tenant_id, link.id, link.lead_id)
    return to_item({**link.model_dump(), **key, **index, "entity": "email_link"})


def participant_to_item(email: StoredEmail, address: str) -> dict[str, Any]:
    return to_item(
        {
            **email.summary(),
            "tenant_id": email.tenant_id,
            "address": address,
            **MailKeys.participant(email.tenant_id, email.id, address),
            "entity": "email_participant",
        }
    )


class MailStore(ActivityStore):
    # ------------------------------------------------------------------ reads
    def has_message(self, tenant_id: str, message_id: str) -> bool:
        """Whether the tenant stored an email with this Message-ID already (its marker)."""
        return self.get_values(MailKeys.message_marker(tenant_id, message_id)) is not None

    def lead_ids_with_email(self, tenant_id: str, address: str) -> list[int]:
        """Ids of the tenant's leads whose email is ``address`` (any case): one LOOKUP Query
        (the partition also holds contacts with that address; they are skipped)."""
        partition = EmailLookup.partition(tenant_id, address)
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": partition.index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": partition.attribute, "#entity": "entity"},
            "ExpressionAttributeValues": {":pk": av(partition.value)},
            "ProjectionExpression": "id, #entity",
        }
        with store_errors():
            rows = [
                from_item(item)
                for page in query_pages(self.client, **request)
                for item in page.get("Items", [])
            ]
        return [int(row["id"]) for row in rows if row.get("entity") == "lead"]

    def emails_sent_to(self, tenant_id: str, address: str) -> list[dict[str, Any]]:
        """The summaries of the tenant's captured emails with ``address`` on From, To or Cc:
        one consistent Query of the address's participant items."""
        request = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": av(MailKeys.sent_to(tenant_id, address))},
            "ConsistentRead": True,
        }
        with store_errors():
            return [
                stored_values(item)
                for page in query_pages(self.client, **request)
                for item in page.get("Items", [])
            ]

    def email(self, tenant_id: str, email_id: int) -> StoredEmail | None:
        found = self.get_values(MailKeys.primary(tenant_id, email_id))
        return StoredEmail.model_validate(found) if found else None

    def links(self, tenant_id: str, lead_id: int) -> list[EmailLink] | None:
        """The email links of a lead (``None`` when the lead does not exist): one Query over the
        lead's partition from ``EMAIL#`` to ``LEAD`` (the links sort right before the lead)."""
        request = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :first AND :lead",
            "ExpressionAttributeValues": {
                ":pk": av(LeadKeys.pk(tenant_id, lead_id)),
                ":first": av(LeadKeys.EMAIL),
                ":lead": av(LeadKeys.SK),
            },
            "ConsistentRead": True,
        }
        with store_errors():
            items = [item for page in query_pages(self.client, **request) for item in page.get("Items", [])]
        if not items or items[-1]["SK"]["S"] != LeadKeys.SK:
            return None
        return [EmailLink.model_validate(stored_values(item)) for item in items[:-1]]

    def link_with_email(
        self, tenant_id: str, lead_id: int, email_id: int
    ) -> tuple[bool, EmailLink | None, StoredEmail | None]:
        """Whether the lead exists, its link to the email, and the email: one BatchGetItem."""
        found = self.fetch(
            {
                "lead": LeadKeys.primary(tenant_id, lead_id),
                "link": LeadKeys.email_link(tenant_id, lead_id, email_id),
                "email": MailKeys.primary(tenant_id, email_id),
            }
        )
        link = EmailLink.model_validate(found["link"]) if "link" in found else None
        email = StoredEmail.model_validate(found["email"]) if "email" in found else None
        return "lead" in found, link, email

    # ------------------------------------------------------------------ writes
    def store_captured(self, email: StoredEmail, addresses: Sequence[str]) -> None:
        """Write a captured email with its Message-ID marker and one participant item per
        address, in one transaction (so at most 98 addresses). ``DuplicateMessage`` when the
        tenant has the Message-ID already: nothing is written."""
        assert email.message_id is not None
        marker = MailKeys.message_marker(email.tenant_id, email.message_id)
        new = "attribute_not_exists(PK)"
        items = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item({**marker, "email_id": email.id, "entity": "message_marker"}),
                    "ConditionExpression": new,
                }
            },
            {"Put": {"TableName": self.table, "Item": email_to_item(email), "ConditionExpression": new}},
            *(
                {"Put": {"TableName": self.table, "Item": participant_to_item(email, address)}}
                for address in addresses
            ),
        ]
        try:
            transient_retries(lambda: self.transact(items))
        except ConditionFailed as failed:
            if 0 not in failed.failed_items():
                raise EmailIdTaken() from failed
            existing = self.get_values(marker)
            if existing is None:  # cannot be: the marker's condition failed, so it exists
                raise StoreFailure("Message-ID marker condition failed but no marker found") from failed
            raise DuplicateMessage(int(existing["email_id"])) from failed

    def mark_stored(self, tenant_id: str, email_id: int) -> None:
        """The email's links are written: a redelivery is now only a duplicate."""
        transient_retries(
            lambda: self.client.update_item(
                TableName=self.table,
                Key=to_item(MailKeys.primary(tenant_id, email_id)),
                UpdateExpression="SET #state = :stored",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":stored": av("stored")},
            )
        )

    def add_link(self, link: EmailLink) -> bool:
        """Link an email to a lead while the lead exists (``LeadGone``). False when it was
        linked already (nothing written)."""
        try:
            self.add(link.tenant_id, link.lead_id, link_to_item(link))
        except ChildConflict:
            return False
        return True

    def store_logged(self, email: StoredEmail, link: EmailLink) -> None:
        """A logged email and its link to its lead, in one transaction with a check that the
        lead exists (``LeadGone``)."""
        check = {
            "TableName": self.table,
            "Key": to_item(LeadKeys.primary(link.tenant_id, link.lead_id)),
            "ConditionExpression": "attribute_exists(PK)",
        }
        new = "attribute_not_exists(PK)"
        items = [
            {"ConditionCheck": check},
            {"Put": {"TableName": self.table, "Item": email_to_item(email), "ConditionExpression": new}},
            {"Put": {"TableName": self.table, "Item": link_to_item(link), "ConditionExpression": new}},
        ]
        try:
            transient_retries(lambda: self.transact(items))
        except ConditionFailed as failed:
            if 0 in failed.failed_items():
                raise LeadGone() from failed
            raise EmailIdTaken() from failed

    def unlink(self, tenant_id: str, lead_id: int, email_id: int) -> EmailLink:
        """Delete the link (``ChildConflict`` when there is none) and, for an email logged by
        hand (it belongs to its lead), the email too, in one transaction; returns the link."""
        found = self.get_values(LeadKeys.email_link(tenant_id, lead_id, email_id))
        if found is None:
            raise ChildConflict()
        link = EmailLink.model_validate(found)
        items: list[dict[str, Any]] = [
            lead_exists(self.table, LeadKeys.pk(tenant_id, lead_id)),  # not in the recycle bin
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": to_item(LeadKeys.email_link(tenant_id, lead_id, email_id)),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            },
        ]
        if link.source == "logged":
            items.append(
                {"Delete": {"TableName": self.table, "Key": to_item(MailKeys.primary(tenant_id, email_id))}}
            )
        try:
            transient_retries(lambda: self.transact(items))
        except ConditionFailed as failed:
            raise ChildConflict() from failed
        return link

    def put_rejected(self, day: str, bucket: str, key: str, values: dict[str, Any]) -> None:
        """Record a rejected inbound message (a redelivery of the same object overwrites it)."""
        item = to_item({**values, **MailKeys.rejected(day, bucket, key), "entity": "inbound_rejected"})
        with store_errors():
            self.client.put_item(TableName=self.table, Item=item)

    def rejected(self, day: str) -> list[dict[str, Any]]:
        """The rejected inbound messages of a day (UTC), for operators and tests."""
        request = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": av(MailKeys.rejected(day, "", "")["PK"])},
        }
        with store_errors():
            return [
                from_item(item)
                for page in query_pages(self.client, **request)
                for item in page.get("Items", [])
            ]
