"""DynamoDB access for leads and their per-tenant counters.

Every write that changes what ``total`` counts updates the tenant's stats item in the same
transaction, so counts never drift from the leads. Lead ids come from the stats item's
``lead_seq``: a create reads it and writes ``lead_seq + 1`` with a condition, so two creates can
never take the same id. The loser of such a race reserves an id with an atomic ``ADD`` instead
(``reserve_ids``), which cannot conflict: contention costs two more requests, never a failure.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from leads_shared.data.directory_store import user_from_item
from leads_shared.data.dynamo import (
    TableStore,
    av,
    cancellation_codes,
    error_code,
    from_item,
    query_pages,
    store_errors,
    stored_values,
    to_item,
    unavailable,
)
from leads_shared.errors import StoreFailure
from leads_shared.keys import KEY_ATTRIBUTES, DirectoryKeys, LeadKeys, LeadStatsKeys
from leads_shared.models.directory import User
from leads_shared.models.leads import Lead

BATCH_GET_LIMIT = 100


class SequenceTaken(Exception):
    """Another writer took the id (or changed the counters) first: read again and retry."""


class VersionConflict(Exception):
    """The lead changed (or vanished) between read and write."""


@dataclass(frozen=True)
class LeadStats:
    lead_seq: int
    counters: dict[str, int]

    def count(self, name: str) -> int:
        return max(0, self.counters.get(name, 0))

    @property
    def total(self) -> int:
        return self.count("total")


def lead_to_item(lead: Lead) -> dict[str, Any]:
    return to_item({**lead.model_dump(), **LeadKeys.all_keys(lead), "entity": "lead"})


def lead_from_item(item: dict[str, Any]) -> Lead:
    return Lead.model_validate(stored_values(item))


def counter_deltas(before: Lead | None, after: Lead | None) -> dict[str, int]:
    """How the tenant's counters change when ``before`` becomes ``after`` (None: absent)."""
    deltas: dict[str, int] = {}

    def add(lead: Lead, sign: int) -> None:
        names = ["total", LeadStatsKeys.status_counter(lead.status)]
        if lead.assigned_to is not None:
            names.append(LeadStatsKeys.assignee_counter(lead.assigned_to))
        for name in names:
            deltas[name] = deltas.get(name, 0) + sign

    if before is not None:
        add(before, -1)
    if after is not None:
        add(after, +1)
    return {name: delta for name, delta in deltas.items() if delta}


def _stats_update(
    tenant_id: str, deltas: dict[str, int], set_seq: int | None = None, expected_seq: int | None = None
) -> dict[str, Any]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    adds = []
    for i, (name, delta) in enumerate(sorted(deltas.items())):
        names[f"#c{i}"] = name
        values[f":c{i}"] = av(delta)
        adds.append(f"#c{i} :c{i}")
    expression = f"ADD {', '.join(adds)}" if adds else ""
    update: dict[str, Any] = {
        "TableName": "",
        "Key": to_item(LeadStatsKeys.primary(tenant_id)),
    }
    if set_seq is not None:
        expression = f"SET lead_seq = :next {expression}".strip()
        values[":next"] = av(set_seq)
        if expected_seq:
            update["ConditionExpression"] = "lead_seq = :expected"
            values[":expected"] = av(expected_seq)
        else:
            update["ConditionExpression"] = "attribute_not_exists(lead_seq) OR lead_seq = :zero"
            values[":zero"] = av(0)
    update["UpdateExpression"] = expression
    if names:
        update["ExpressionAttributeNames"] = names
    update["ExpressionAttributeValues"] = values
    return update


class LeadStore(TableStore):
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

    def _batch_get(self, keys: Sequence[dict[str, str]], consistent: bool) -> list[dict[str, Any]]:
        """BatchGetItem with retries of unprocessed keys (exponential backoff)."""
        found: list[dict[str, Any]] = []
        pending = [to_item(key) for key in keys]
        for start in range(0, len(pending), BATCH_GET_LIMIT):
            request = {
                self.table: {"Keys": pending[start : start + BATCH_GET_LIMIT], "ConsistentRead": consistent}
            }
            attempt = 0
            while request:
                with store_errors():
                    response = self.client.batch_get_item(RequestItems=request)
                found.extend(response.get("Responses", {}).get(self.table, []))
                request = response.get("UnprocessedKeys") or {}
                if request:
                    attempt += 1
                    if attempt > 8:
                        raise StoreFailure("BatchGetItem kept leaving keys unprocessed")
                    time.sleep(min(0.05 * 2**attempt, 1.0))
        return found

    def get_with_user(
        self, tenant_id: str, lead_id: int, user_id: int | None
    ) -> tuple[Lead | None, User | None]:
        """A lead and (when asked) a user of the tenant, in one request."""
        keys = [LeadKeys.primary(tenant_id, lead_id)]
        if user_id is not None:
            keys.append(DirectoryKeys.user(tenant_id, user_id))
        lead: Lead | None = None
        user: User | None = None
        for item in self._batch_get(keys, consistent=True):
            if item["SK"]["S"] == LeadKeys.SK:
                lead = lead_from_item(item)
            else:
                user = user_from_item(item)
        return lead, user

    def stats_with_user(self, tenant_id: str, user_id: int | None) -> tuple[LeadStats, User | None]:
        """The tenant's lead counters (and a user of the tenant, when asked) in one request."""
        keys = [LeadStatsKeys.primary(tenant_id)]
        if user_id is not None:
            keys.append(DirectoryKeys.user(tenant_id, user_id))
        stats = LeadStats(lead_seq=0, counters={})
        user: User | None = None
        for item in self._batch_get(keys, consistent=True):
            if item["SK"]["S"] == LeadStatsKeys.SK:
                stats = _stats_from_item(item)
            else:
                user = user_from_item(item)
        return stats, user

    def stats(self, tenant_id: str) -> LeadStats:
        with store_errors():
            response = self.client.get_item(
                TableName=self.table, Key=to_item(LeadStatsKeys.primary(tenant_id))
            )
        item = response.get("Item")
        return _stats_from_item(item) if item else LeadStats(lead_seq=0, counters={})

    def query_index(self, index: str, partition: tuple[str, str], *, forward: bool, count: int) -> list[Lead]:
        """The first ``count`` leads of one index partition, in index order."""
        leads: list[Lead] = []
        attribute, value = partition
        request = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": attribute},
            "ExpressionAttributeValues": {":pk": av(value)},
            "ScanIndexForward": forward,
            "Limit": count,
        }
        with store_errors():
            for page in query_pages(self.client, **request):
                leads.extend(lead_from_item(item) for item in page.get("Items", []))
                if len(leads) >= count:
                    break
                request["Limit"] = count - len(leads)
        return leads[:count]

    def list_rows(
        self, tenant_id: str, *, forward: bool = True, count: int | None = None
    ) -> list[dict[str, Any]]:
        """Rows of the tenant's narrow list index (only the attributes filters and sorts need),
        by creation time; all of them unless ``count`` is given."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "LIST",
            "KeyConditionExpression": "LISTPK = :pk",
            "ExpressionAttributeValues": {":pk": av(LeadKeys.all_leads(tenant_id))},
            "ScanIndexForward": forward,
        }
        if count is not None:
            request["Limit"] = count
        rows: list[dict[str, Any]] = []
        with store_errors():
            for page in query_pages(self.client, **request):
                rows.extend(from_item(item) for item in page.get("Items", []))
                if count is not None:
                    if len(rows) >= count:
                        break
                    request["Limit"] = count - len(rows)
        return rows[:count] if count is not None else rows

    def get_many(self, tenant_id: str, lead_ids: Iterable[int]) -> dict[int, Lead]:
        keys = [LeadKeys.primary(tenant_id, lead_id) for lead_id in lead_ids]
        leads = (lead_from_item(item) for item in self._batch_get(keys, consistent=False))
        return {lead.id: lead for lead in leads}

    # ------------------------------------------------------------------ writes
    def reserve_ids(self, tenant_id: str, count: int = 1) -> int:
        """Take ``count`` ids atomically; returns the last one (the first is ``last - count + 1``)."""
        with store_errors():
            response = self.client.update_item(
                TableName=self.table,
                Key=to_item(LeadStatsKeys.primary(tenant_id)),
                UpdateExpression="ADD lead_seq :n",
                ExpressionAttributeValues={":n": av(count)},
                ReturnValues="UPDATED_NEW",
            )
        return int(response["Attributes"]["lead_seq"]["N"])

    def insert(self, lead: Lead, previous_seq: int | None) -> None:
        """Write a new lead with its counters, atomically. With ``previous_seq``, the lead's id
        must be the next of the sequence (``SequenceTaken`` if another writer took it); without,
        the id was reserved with ``reserve_ids``."""
        deltas = counter_deltas(None, lead)
        if previous_seq is None:
            stats = _stats_update(lead.tenant_id, deltas)
        else:
            stats = _stats_update(lead.tenant_id, deltas, set_seq=lead.id, expected_seq=previous_seq)
        stats["TableName"] = self.table
        put = {
            "TableName": self.table,
            "Item": lead_to_item(lead),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        try:
            self.client.transact_write_items(TransactItems=[{"Update": stats}, {"Put": put}])
        except ClientError as exc:
            if _lost_race(exc):
                raise SequenceTaken() from exc
            raise unavailable(exc) from exc

    def replace(self, before: Lead, after: Lead) -> None:
        """Write ``after`` over ``before`` if the stored version is still ``before.version``."""
        put = {
            "TableName": self.table,
            "Item": lead_to_item(after),
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": av(before.version)},
        }
        deltas = counter_deltas(before, after)
        self._write_with_counters(before.tenant_id, {"Put": put}, deltas)

    def delete(self, lead: Lead) -> None:
        delete = {
            "TableName": self.table,
            "Key": to_item(LeadKeys.primary(lead.tenant_id, lead.id)),
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": av(lead.version)},
        }
        self._write_with_counters(lead.tenant_id, {"Delete": delete}, counter_deltas(lead, None))

    def _write_with_counters(self, tenant_id: str, write: dict[str, Any], deltas: dict[str, int]) -> None:
        try:
            if not deltas:
                ((operation, request),) = write.items()
                call = self.client.put_item if operation == "Put" else self.client.delete_item
                call(**request)
                return
            stats = _stats_update(tenant_id, deltas)
            stats["TableName"] = self.table
            self.client.transact_write_items(TransactItems=[write, {"Update": stats}])
        except ClientError as exc:
            if _lost_race(exc):
                raise VersionConflict() from exc
            raise unavailable(exc) from exc


def _lost_race(exc: ClientError) -> bool:
    code = error_code(exc)
    if code in ("ConditionalCheckFailedException", "TransactionConflictException"):
        return True
    if code == "TransactionCanceledException":
        return any(
            reason in ("ConditionalCheckFailed", "TransactionConflict") for reason in cancellation_codes(exc)
        )
    return False


def _stats_from_item(item: dict[str, Any]) -> LeadStats:
    values = from_item(item)
    seq = int(values.pop("lead_seq", 0))
    counters = {k: int(v) for k, v in values.items() if k not in KEY_ATTRIBUTES and isinstance(v, int)}
    return LeadStats(lead_seq=seq, counters=counters)
