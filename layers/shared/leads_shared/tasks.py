"""Tasks of a lead: list, add, change and delete, for one caller's tenant.

Every id a task refers to (``assigned_to``, ``contact_id``, ``company_id``, ``deal_id``) must
exist in the caller's tenant (422 otherwise); they are all checked with one batch read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leads_shared.clock import utc_now
from leads_shared.data.activity_store import ActivityStore, ChildConflict, LeadGone
from leads_shared.errors import NotFound, ValidationFailed
from leads_shared.models.activities import Task, TaskCreate, TaskUpdate
from leads_shared.versioning import next_version, without_lost_updates

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.record_store import RecordStore

# The fields of a task that name another record of the tenant.
REFERENCES = ("assigned_to", "contact_id", "company_id", "deal_id")


def _read(
    tenant_id: str, lead_id: int, task_id: int | None, changes: dict[str, Any], activities: ActivityStore
) -> tuple[Task | None, dict[str, dict[str, Any]]]:
    """The task (when ``task_id``) and every record its references in ``changes`` name, in one
    request; a referenced id that does not exist in the tenant (or a deactivated assignee) is a
    422."""
    wanted = {field: changes[field] for field in REFERENCES if changes.get(field) is not None}
    task, found = activities.task_with_references(tenant_id, lead_id, task_id, wanted)
    missing = sorted(
        field for field in wanted if field not in found or found[field].get("active") is False
    )  # a deactivated user cannot be newly assigned
    if missing:
        raise ValidationFailed.selected(*missing)
    return task, found


def list_tasks(principal: Principal, lead_id: int, activities: ActivityStore) -> list[Task]:
    """By due date, then time; undated tasks last."""
    tasks = activities.tasks(principal.tenant_id, lead_id)
    if tasks is None:
        raise NotFound("Lead")
    return sorted(tasks, key=Task.order_key)


def add_task(
    principal: Principal, lead_id: int, data: TaskCreate, activities: ActivityStore, records: RecordStore
) -> Task:
    """Check the references (one batch read, when there are any), take an id, write the task on
    condition that the lead exists."""
    values = data.model_dump()
    _, found = _read(principal.tenant_id, lead_id, None, values, activities)
    now = utc_now()
    task = Task(
        **values,
        tenant_id=principal.tenant_id,
        id=records.reserve(principal.tenant_id, ["task"])["task"],
        lead_id=lead_id,
        assigned_to_name=found["assigned_to"]["name"] if "assigned_to" in found else None,
        completed_at=now if data.completed else None,
        created_by=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    try:
        activities.add_task(task)
    except LeadGone:
        raise NotFound("Lead") from None
    return task


def update_task(
    principal: Principal, lead_id: int, task_id: int, data: TaskUpdate, activities: ActivityStore
) -> Task:
    """Fields left out keep their value. Two requests (the task with its references, then a
    write on condition that the task did not change meanwhile; retried on the fresh task if it
    did, so no concurrent change is lost)."""
    changes = data.changes()

    def attempt() -> Task:
        current, found = _read(principal.tenant_id, lead_id, task_id, changes, activities)
        if current is None:
            raise NotFound("Task")
        updated = current.model_copy(update=changes)
        if "assigned_to" in changes:
            updated.assigned_to_name = found["assigned_to"]["name"] if "assigned_to" in found else None
        now = utc_now()
        if updated.completed != current.completed:
            updated.completed_at = now if updated.completed else None
        if updated == current:
            return current
        updated = next_version(current, updated, now)
        activities.replace_task(current, updated)
        return updated

    return without_lost_updates(attempt, None, "task")


def delete_task(principal: Principal, lead_id: int, task_id: int, activities: ActivityStore) -> None:
    """One request: delete on condition that the task exists (404 otherwise)."""
    try:
        activities.remove_task(principal.tenant_id, lead_id, task_id)
    except ChildConflict:
        raise NotFound("Task") from None
