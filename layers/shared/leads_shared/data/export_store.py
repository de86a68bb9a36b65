"""DynamoDB access for export jobs (``PK=TENANT#<t>#EXPORT#<id>``, ``SK=EXPORT``).

A run of the worker holds a job by its claim: ``claim`` claims a job that is queued or running
with no live lease, and every later write of that run (a part, progress, the end) is on
condition that the job still carries its claim. So a redelivered message never writes a job
another run holds, nor one that is done or failed.
"""

from __future__ import annotations

from typing import Any

from leads_shared.data.dynamo import TableStore, av, store_errors, stored_values, to_item
from leads_shared.data.writes import ConditionFailed, transient_retries
from leads_shared.keys import ExportKeys
from leads_shared.models.exports import ExportJob, UploadedPart

HELD = "claim = :claim AND #status = :running"


class ExportStore(TableStore):
    def create(self, job: ExportJob) -> None:
        values = {**job.model_dump(mode="json"), **ExportKeys.primary(job.tenant_id, job.export_id)}
        with store_errors():
            self.client.put_item(
                TableName=self.table,
                Item=to_item({**values, "entity": "export"}),
                ConditionExpression="attribute_not_exists(PK)",
            )

    def get(self, tenant_id: str, export_id: str) -> ExportJob | None:
        found = self.get_values(ExportKeys.primary(tenant_id, export_id))
        return ExportJob.model_validate(found) if found else None

    def _update(
        self, job: ExportJob, expression: str, condition: str, names: dict[str, str], **values: Any
    ) -> ExportJob | None:
        """Update the job; its new state, or None when ``condition`` did not hold."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": to_item(ExportKeys.primary(job.tenant_id, job.export_id)),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status", **names},
            "ExpressionAttributeValues": {f":{k}": av(v) for k, v in values.items()},
            "ReturnValues": "ALL_NEW",
        }
        try:
            answer = transient_retries(lambda: self.client.update_item(**request))
        except ConditionFailed:
            return None
        return ExportJob.model_validate(stored_values(answer["Attributes"]))

    def claim(
        self, job: ExportJob, claim: str, now: int, lease_until: int, started_at: str
    ) -> ExportJob | None:
        """Hold the job for one run until ``lease_until``; None when it is finished or another
        run holds it."""
        return self._update(
            job,
            "SET #status = :running, claim = :claim, lease_until = :until, "
            "started_at = if_not_exists(started_at, :started) ADD attempts :one",
            "#status IN (:queued, :running) AND (attribute_not_exists(lease_until) OR lease_until < :now)",
            {},
            running="running",
            queued="queued",
            claim=claim,
            until=lease_until,
            started=started_at,
            now=now,
            one=1,
        )

    def started_upload(self, job: ExportJob, claim: str, upload_id: str) -> ExportJob | None:
        """Record the multipart upload the job writes (once: a later run resumes it)."""
        return self._update(
            job,
            "SET upload_id = :upload",
            f"{HELD} AND attribute_not_exists(upload_id)",
            {},
            upload=upload_id,
            claim=claim,
            running="running",
        )

    def add_part(
        self, job: ExportJob, claim: str, part: UploadedPart, rows_written: int, last_sort_key: str | None
    ) -> ExportJob | None:
        """Record one more uploaded part, the leads written so far and the sort key of the last
        one, on condition that the job holds exactly the parts before it (a retried update whose
        first answer was lost finds its part there and is not appended twice)."""
        names = {"#parts": "parts"}
        values: dict[str, Any] = {
            "part": [part.model_dump()],
            "rows": rows_written,
            "claim": claim,
            "running": "running",
            "count": part.number - 1,
        }
        expression = "SET #parts = list_append(#parts, :part), rows_written = :rows, progress = :rows"
        if last_sort_key is not None:
            expression += ", last_sort_key = :last"
            values["last"] = last_sort_key
        updated = self._update(job, expression, f"{HELD} AND size(#parts) = :count", names, **values)
        if updated is None:
            current = self.get(job.tenant_id, job.export_id)
            if current and current.claim == claim and current.parts[-1:] == [part]:
                return current  # our own write, its answer lost
        return updated

    def progress(self, job: ExportJob, claim: str, rows_written: int) -> bool:
        """Leads written so far (within a part not yet uploaded): what ``GET`` shows meanwhile."""
        done = self._update(
            job, "SET progress = :rows", HELD, {}, rows=rows_written, claim=claim, running="running"
        )
        return done is not None

    def release(self, job: ExportJob, claim: str) -> ExportJob | None:
        """Give the job back (queued, no lease) for the next run to resume."""
        return self._update(
            job,
            "SET #status = :queued REMOVE claim, lease_until ADD runs :one",
            HELD,
            {},
            queued="queued",
            claim=claim,
            running="running",
            one=1,
        )

    def finish(self, job: ExportJob, claim: str, **fields: Any) -> ExportJob | None:
        """Set the job's final fields (status, row count, failure reason, times) and drop its
        claim; None when this run does not hold it any more."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        assignments = ", ".join(f"#f{i} = :f{i}" for i in range(len(fields)))
        values = {f"f{i}": value for i, value in enumerate(fields.values())}
        return self._update(
            job,
            f"SET {assignments} REMOVE claim, lease_until",
            HELD,
            names,
            claim=claim,
            running="running",
            **values,
        )

    def fail_unqueued(self, job: ExportJob, reason: str, finished_at: str) -> None:
        """A job whose message could not be sent: failed before any run saw it."""
        self._update(
            job,
            "SET #status = :failed, failure_reason = :reason, finished_at = :at",
            "#status = :queued AND attribute_not_exists(claim)",
            {},
            failed="failed",
            reason=reason,
            at=finished_at,
            queued="queued",
        )
