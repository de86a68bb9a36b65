"""DynamoDB access for the notes and tasks of a lead (items in the lead's own partition).

A new note or task is written in a transaction with a check that its lead exists, so nothing can
be added to a lead that is being deleted (the delete sweeps the partition after removing the
lead, and finds everything written before)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from leads_shared.data.dynamo import TableStore, av, query_pages, store_errors, stored_values, to_item
from leads_shared.data.writes import ConditionFailed, replace_if_version, transient_retries
from leads_shared.keys import CompanyKeys, ContactKeys, DealKeys, DirectoryKeys, LeadKeys
from leads_shared.models.activities import Note, Task

# What each reference field of a task names (a user of the directory, a contact, ...).
_REFERENCED: dict[str, Callable[[str, int], dict[str, str]]] = {
    "assigned_to": DirectoryKeys.user,
    "contact_id": ContactKeys.primary,
    "company_id": CompanyKeys.primary,
    "deal_id": DealKeys.primary,
}
_TASK, _LEAD = " task", " lead"  # not field names
EXISTS = "attribute_exists(PK)"


def lead_exists(table: str, partition: str) -> dict[str, Any]:
    """The transaction item "the lead of this partition exists" (live: not in the recycle bin)."""
    key = {"PK": partition, "SK": LeadKeys.SK}
    return {"ConditionCheck": {"TableName": table, "Key": to_item(key), "ConditionExpression": EXISTS}}


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
    def add_note(self, note: Note) -> None:
        """Write a new note if its lead exists (``LeadGone``) and its id is new (``ChildConflict``)."""
        self.add(note.tenant_id, note.lead_id, note_to_item(note))

    def add_task(self, task: Task) -> None:
        """Write a new task if its lead exists (``LeadGone``) and its id is new (``ChildConflict``)."""
        self.add(task.tenant_id, task.lead_id, task_to_item(task))

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

    def remove_note(self, tenant_id: str, lead_id: int, note_id: int) -> None:
        """Delete a note of the lead (``ChildConflict`` when there is none)."""
        self._remove(LeadKeys.note(tenant_id, lead_id, note_id))

    def remove_task(self, tenant_id: str, lead_id: int, task_id: int) -> None:
        """Delete a task of the lead (``ChildConflict`` when there is none)."""
        self._remove(LeadKeys.task(tenant_id, lead_id, task_id))

    def _remove(self, key: dict[str, str]) -> None:
        """Delete one child if it and its lead exist (``ChildConflict`` when either does not: a
        lead in the recycle bin keeps its children as they are until it is restored)."""
        delete = {"TableName": self.table, "Key": to_item(key), "ConditionExpression": EXISTS}
        try:
            transient_retries(lambda: self.transact([lead_exists(self.table, key["PK"]), {"Delete": delete}]))
        except ConditionFailed as failed:
            raise ChildConflict() from failed

    def task_with_references(
        self, tenant_id: str, lead_id: int, task_id: int | None, references: Mapping[str, int]
    ) -> tuple[Task | None, dict[str, dict[str, Any]]]:
        """The task (when ``task_id``) and the records its ``references`` name (``{field: id}``:
        ``assigned_to``, ``contact_id``, ``company_id``, ``deal_id``), in one consistent
        request (none when nothing is asked): ``(task or None, {field: the record's values})``
        for the records that exist."""
        keys = {field: _REFERENCED[field](tenant_id, value) for field, value in references.items()}
        if task_id is not None:
            keys[_TASK] = LeadKeys.task(tenant_id, lead_id, task_id)
            keys[_LEAD] = LeadKeys.primary(tenant_id, lead_id)
        found = self.fetch(keys)
        task = found.pop(_TASK, None)
        if found.pop(_LEAD, None) is None:  # a lead in the recycle bin: its tasks are not found
            task = None
        return (Task.model_validate(task) if task is not None else None), found

    def tasks(self, tenant_id: str, lead_id: int) -> list[Task] | None:
        """The tasks of a lead (``None`` when the lead does not exist, or is in the recycle bin
        with its tasks). Two requests: the Query of its tasks, and the lead's GetItem."""
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
        if self.get_values(LeadKeys.primary(tenant_id, lead_id)) is None:
            return None
        return [Task.model_validate(stored_values(item)) for item in items]

    def replace_task(self, before: Task, after: Task) -> None:
        """Write ``after`` if the stored task still has ``before.version`` (``VersionConflict``
        when it changed or vanished)."""
        replace_if_version(self.client, self.table, task_to_item(after), before.version)
