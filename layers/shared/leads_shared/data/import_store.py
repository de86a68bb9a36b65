"""DynamoDB access for CSV import jobs (``PK=TENANT#<t>#IMPORT#<id>``, ``SK=IMPORT``).

The worker's progress is applied with conditions, so a redelivered event or a retried worker
never writes or counts a row twice: a chunk's new leads, its counts and the tenant's lead
counters go in one transaction that also moves the job's ``next_chunk`` on, on condition that it
still is that chunk (a chunk is at most ``import_worker.CHUNK_ROWS`` rows: the transaction's 100
items hold its leads with their index entries, the job and the counters).
"""

from __future__ import annotations

from typing import Any

from leads_shared.data.dynamo import TableStore, av, store_errors, stored_values, to_item
from leads_shared.data.lead_counters import stats_update
from leads_shared.data.sequences import IdTaken
from leads_shared.data.writes import ConditionFailed, transient_retries
from leads_shared.keys import ImportKeys
from leads_shared.models.imports import ImportCounts, ImportJob

COUNTS = tuple(ImportCounts.model_fields)


class ImportStore(TableStore):
    def create(self, job: ImportJob) -> None:
        item = to_item(
            {**job.model_dump(), **ImportKeys.primary(job.tenant_id, job.import_id), "entity": "import"}
        )
        with store_errors():
            self.client.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(PK)"
            )

    def get(self, tenant_id: str, import_id: str) -> ImportJob | None:
        found = self.get_values(ImportKeys.primary(tenant_id, import_id))
        return ImportJob.model_validate(found) if found else None

    def _update(
        self, job: ImportJob, expression: str, condition: str | None, **values: Any
    ) -> ImportJob | None:
        """Update the job; its new state, or None when ``condition`` did not hold."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": to_item(ImportKeys.primary(job.tenant_id, job.import_id)),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": {f":{k}": av(v) for k, v in values.items()},
            "ReturnValues": "ALL_NEW",
        }
        if condition:
            request["ConditionExpression"] = condition
        if "#status" in f"{expression} {condition}":
            request["ExpressionAttributeNames"] = {"#status": "status"}
        try:
            answer = transient_retries(lambda: self.client.update_item(**request))
        except ConditionFailed:
            return None
        return ImportJob.model_validate(stored_values(answer["Attributes"]))

    def claim(self, job: ImportJob, now: str) -> ImportJob | None:
        """Start (or resume) processing; None when the job has finished already."""
        return self._update(
            job,
            "SET #status = :processing, started_at = if_not_exists(started_at, :now) ADD attempts :one",
            "#status IN (:pending, :queued, :processing)",
            processing="processing",
            now=now,
            one=1,
            pending="pending_upload",
            queued="queued",
        )

    def reserve_range(self, job: ImportJob, base: int, count: int, version: str) -> ImportJob:
        """Record the job's lead ids and the file version they are for, once: a later attempt
        finds (and keeps) the first ones."""
        done = self._update(
            job,
            "SET id_base = :base, id_count = :count, source_version = :version",
            "attribute_not_exists(id_base)",
            base=base,
            count=count,
            version=version,
        )
        return done or self.get(job.tenant_id, job.import_id) or job

    def checkpoint(
        self,
        job: ImportJob,
        chunk: int,
        counts: ImportCounts,
        deltas: dict[str, int],
        new_leads: list[dict[str, Any]],
    ) -> bool:
        """Write one chunk's new leads (stored items, each on condition that its id is new), its
        counts and the lead counters of the leads it created, in one transaction, on condition
        that the job's ``next_chunk`` still is this chunk: a lead becomes visible exactly when it
        is counted, and never twice. False when another attempt committed the chunk; ``IdTaken``
        (nothing written) when only an id of the job's reserved range was taken already."""
        names = {f"#n{i}": name for i, name in enumerate(COUNTS)}
        values = {f":v{i}": av(getattr(counts, name)) for i, name in enumerate(COUNTS)}
        values.update({":chunk": av(chunk), ":next": av(chunk + 1)})
        update = {
            "TableName": self.table,
            "Key": to_item(ImportKeys.primary(job.tenant_id, job.import_id)),
            "UpdateExpression": "SET next_chunk = :next ADD "
            + ", ".join(f"#n{i} :v{i}" for i in range(len(COUNTS))),
            "ConditionExpression": "next_chunk = :chunk",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        items: list[dict[str, Any]] = [{"Update": update}]
        items += [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for item in new_leads
        ]
        if deltas:
            items.append({"Update": stats_update(self.table, job.tenant_id, deltas)})
        try:
            transient_retries(lambda: self.transact(items))
        except ConditionFailed as failed:
            if failed.failed_items() and 0 not in failed.failed_items():  # the job's was item 0
                raise IdTaken() from failed
            return False
        return True

    def finish(self, job: ImportJob, **fields: Any) -> ImportJob:
        """Set the job's final fields (status, errors, report, times...)."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":f{i}": av(_plain(value)) for i, value in enumerate(fields.values())}
        request = {
            "TableName": self.table,
            "Key": to_item(ImportKeys.primary(job.tenant_id, job.import_id)),
            "UpdateExpression": "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        answer = transient_retries(lambda: self.client.update_item(**request))
        return ImportJob.model_validate(stored_values(answer["Attributes"]))


def _plain(value: Any) -> Any:
    """Pydantic models (row errors) as plain maps for DynamoDB; None as NULL."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return value
