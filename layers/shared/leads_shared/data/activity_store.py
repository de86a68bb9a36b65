"""DynamoDB access for the notes and tasks of a lead (items in the lead's own partition).

A new note or task is written in a transaction with a check that its lead exists, so nothing can
be added to a lead that is being deleted (the delete sweeps the partition after removing the
lead, and finds everything written before)."""

from __future__ import annotations

from typing import Any

from leads_shared.data.dynamo import TableStore, av, query_pages, store_errors, stored_values, to_item
from leads_shared.data.writes import ConditionFailed, VersionConflict, transient_retries
from leads_shared.keys import LeadKeys
from leads_shared.models.activities import Note, Task


class LeadGone(Exception):
    """The lead a child was being written to does not exist."""


class ChildConflict(Exception):
    """The child changed, vanished, or (for a new one) its id exists already."""


def note_to_item(note: Note) -> dict[str, Any]:
    return to_item(
        {**note.model_dump(), **LeadKeys.note(note.tenant_id, note.lead_id, note.id), "entity": "note"}
    )


def task_to_item(task: Task) -> dict[str, Any]:
    return to_item(
        {**task.model_dump(), **LeadKeys.task(task.tenant_id, task.lead_id, task.id), "entity": "task"}
    )


class ActivityStore(TableStore):
    def add(self, tenant_id: str, lead_id: int, item: dict[str, Any]) -> None:
        """Write a new child of a lead if the lead exists (``LeadGone``) and the child's key is
        new (``ChildConflict``)."""
        check = {
            "TableName": self.table,
            "Key": to_item(LeadKeys.primary(tenant_id, lead_id)),
            "ConditionExpression": "attribute_exists(PK)",
        }
        put = {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
        try:
            transient_retries(lambda: self.transact([{"ConditionCheck": check}, {"Put": put}]))
        except ConditionFailed as failed:
            if 0 in failed.failed_items():
                raise LeadGone() from failed
            raise ChildConflict() from failed

    def note(self, tenant_id: str, lead_id: int, note_id: int) -> Note | None:
        found = self.get_values(LeadKeys.note(tenant_id, lead_id, note_id))
        return Note.model_validate(found) if found else None

    def remove(self, key: dict[str, str], condition: str = "attribute_exists(PK)", **values: Any) -> None:
        """Delete one child on ``condition`` (``ChildConflict`` when it does not hold)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": to_item(key),
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeValues"] = {f":{name}": av(value) for name, value in values.items()}
        try:
            transient_retries(lambda: self.client.delete_item(**request))
        except ConditionFailed as failed:
            raise ChildConflict() from failed

    def tasks(self, tenant_id: str, lead_id: int) -> list[Task] | None:
        """The tasks of a lead (``None`` when the lead does not exist). One Query; a second
        request only when the lead has no task, to tell "no tasks" from "no lead"."""
        request = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": av(LeadKeys.pk(tenant_id, lead_id)),
                ":prefix": av(LeadKeys.TASK),
            },
            "ConsistentRead": True,
        }
        with store_errors():
            items = [item for page in query_pages(self.client, **request) for item in page.get("Items", [])]
        if not items and self.get_values(LeadKeys.primary(tenant_id, lead_id)) is None:
            return None
        return [Task.model_validate(stored_values(item)) for item in items]

    def replace_task(self, before: Task, after: Task) -> None:
        """Write ``after`` if the stored task still has ``before.version`` (``VersionConflict``
        when it changed or vanished)."""
        put = {
            "TableName": self.table,
            "Item": task_to_item(after),
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": av(before.version)},
        }
        try:
            transient_retries(lambda: self.client.put_item(**put))
        except ConditionFailed as failed:
            raise VersionConflict() from failed
