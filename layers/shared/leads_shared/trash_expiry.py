"""A trashed lead's children go when DynamoDB's TTL removes it (fed by the table's stream).

A deleted lead waits in the recycle bin 30 days (``recycle_bin``); its trashed item carries
``expires_at``, and TTL removes that one item. Its notes, tasks and email links (and the emails
logged by hand on it) are other items: the stream's REMOVE record of the trashed item, made by
DynamoDB's own service identity (the template's FilterCriteria let only those through, with the
user changes ``directory_sync`` handles), brings them here, and they are removed.

- **Safe to replay.** The lead's partition is read first (one consistent Query): a partition that
  holds a lead or a trashed item again is left alone (ids are never reused, so it cannot happen
  but by a bug, and then nothing is lost); one already empty costs that Query only.
- **Only TTL.** A trashed item removed by the API (a restore, a removal for good) is not TTL's:
  its record carries no service identity, and those routes handle the children themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from leads_shared.data.trash_store import TRASHED_ENTITY
from leads_shared.observability import logger

if TYPE_CHECKING:
    from collections.abc import Sequence

    from leads_shared.data.lead_store import LeadRemains

TTL_PRINCIPAL = "dynamodb.amazonaws.com"


class LeadPartitions(Protocol):
    """What the removal needs of the leads' store (``LeadStore``)."""

    def get_with_children(self, tenant_id: str, lead_id: int) -> LeadRemains: ...

    def remove_leftovers(self, keys: Sequence[dict[str, str]]) -> None: ...


@dataclass(frozen=True)
class ExpiredLead:
    tenant_id: str
    lead_id: int


def expired_leads(records: Iterable[DynamoDBRecord]) -> list[ExpiredLead]:
    """The trashed leads TTL removed in ``records``, each once."""
    found: dict[ExpiredLead, None] = {}
    for record in records:
        identity = record.user_identity
        if (
            record.event_name is not DynamoDBRecordEventName.REMOVE
            or record.dynamodb is None
            or identity.get("type") != "Service"
            or identity.get("principalId") != TTL_PRINCIPAL
        ):
            continue
        old = record.dynamodb.old_image
        if old.get("entity") == TRASHED_ENTITY:
            found.setdefault(ExpiredLead(str(old["tenant_id"]), int(old["id"])), None)
    return list(found)


def remove_children(records: Iterable[DynamoDBRecord], leads: LeadPartitions) -> int:
    """Remove what the trashed leads TTL removed in ``records`` left; returns how many items."""
    removed = 0
    for expired in expired_leads(records):
        remains = leads.get_with_children(expired.tenant_id, expired.lead_id)
        if remains.lead is not None or remains.trashed:
            logger.warning(
                "an expired lead's partition holds a lead again: left alone",
                extra={"tenant_id": expired.tenant_id, "lead_id": expired.lead_id},
            )
            continue
        leads.remove_leftovers(remains.children)
        removed += len(remains.children)
    return removed
