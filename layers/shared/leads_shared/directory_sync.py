"""A user's new name shows on the leads assigned to them (fed by the table's DynamoDB stream).

Leads keep their assignee's name (``assigned_to_name``: shown, exported, and sorted on through
the narrow LIST index). Whoever renames a user (the admin API, SCIM, a script) only writes the
user item; the stream brings the change here, so every way of renaming is covered.

- **Which records.** A MODIFY of a user item whose ``name`` differs between its old and new
  image (the template's FilterCriteria let only MODIFYs of user items through: Lambda's filters
  compare a field with constants, not two fields, so the name check is here). A new user has no
  leads; a removed one keeps the name its leads show. A user renamed twice in one batch is synced
  once.
- **Which name.** The user's name *now* (a consistent GetItem), not the record's: records of one
  user arrive in order, but a batch retried after a later one, or replayed from the stream,
  must not bring back an older name. A user that no longer exists is skipped.
- **Which leads.** The user's GSI3 partition (``LeadKeys.by_assignee_then_name``), in pages;
  leads that already show the name are filtered out there, so a redelivered batch only reads.
  Each lead is written with one conditional UpdateItem: only if it is still assigned to that user
  and does not show the name yet (a lead reassigned meanwhile keeps its new assignee's name).
  The cost is the user's leads (reads and writes), never the tenant's.
- **Version, ETag, ``updated_at``.** The lead's version moves on (its ETag changes): its
  representation changed, so a client holding the old ETag must not overwrite it (``If-Match``
  gets a 412), and a writer that read the lead before is refused and reads again (its own change
  is then made over the new name, as for any concurrent write). ``updated_at`` stays: it is when
  a person last changed the lead, and a directory rename is not a change of the lead.
- **Notes** keep the ``user_name`` they were written with: a note records who wrote it, as they
  were named then. Tasks' ``assigned_to_name`` and the owners' names of contacts and deals are
  not synced here (yet).
- **Bounded.** Before each write the invocation's remaining time is checked; close to the
  timeout the batch fails (``OutOfTime``), the stream delivers it again, and the leads renamed
  already are skipped, so every attempt makes progress.

Known limit: a lead assigned to the user in the instant of the rename, by a write that read the
old name, can keep the old name (GSI3 is eventually consistent, and that write may land after the
sync read the partition); its next change of assignee, or the user's next rename, corrects it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from leads_shared.observability import logger

if TYPE_CHECKING:
    from leads_shared.models.directory import User

# What DirectoryStore writes as the ``entity`` of a user item (the template's FilterCriteria
# match it too).
USER_ENTITY = "user"
# Stop writing when the invocation has less than this left: one more write (with the SDK's
# retries) and the failure's report must fit before Lambda's timeout.
STOP_BEFORE_TIMEOUT_MS = 30_000


class OutOfTime(Exception):
    """The invocation is close to its timeout: fail the batch, so that the stream delivers it again
    (the leads renamed by now are skipped then)."""


class AssigneeNames(Protocol):
    """What the sync needs of the leads' store (``LeadStore``)."""

    def assigned_not_showing(self, tenant_id: str, user_id: int, name: str) -> Iterator[list[int]]: ...

    def show_assignee_name(self, tenant_id: str, lead_id: int, user_id: int, name: str) -> bool: ...


class Users(Protocol):
    """What the sync needs of the directory (``DirectoryStore``): a consistent read of a user."""

    def user(self, tenant_id: str, user_id: int) -> User | None: ...


@dataclass(frozen=True)
class RenamedUser:
    tenant_id: str
    user_id: int


@dataclass
class SyncReport:
    users: int = 0  # renamed users whose leads were synced
    leads_renamed: int = 0
    leads_skipped: int = 0  # reassigned, deleted, or renamed by an earlier delivery meanwhile


def renamed_users(records: Iterable[DynamoDBRecord]) -> list[RenamedUser]:
    """The users whose name the records changed, each once, in the order of their first record."""
    renamed: dict[RenamedUser, None] = {}
    for record in records:
        change = record.dynamodb
        if record.event_name is not DynamoDBRecordEventName.MODIFY or change is None:
            continue
        old, new = change.old_image, change.new_image
        if new.get("entity") != USER_ENTITY or old.get("name") == new.get("name"):
            continue
        renamed.setdefault(RenamedUser(str(new["tenant_id"]), int(new["id"])), None)
    return list(renamed)


def show_new_names(
    records: Iterable[DynamoDBRecord],
    leads: AssigneeNames,
    users: Users,
    time_left_ms: Callable[[], int],
) -> SyncReport:
    """Make every lead assigned to a user renamed by ``records`` show the user's current name.
    Raises ``OutOfTime`` when ``time_left_ms()`` falls under ``STOP_BEFORE_TIMEOUT_MS``."""
    report = SyncReport()
    for renamed in renamed_users(records):
        user = users.user(renamed.tenant_id, renamed.user_id)
        if user is None:
            logger.info(
                "renamed user no longer exists: its leads keep their name",
                extra={"tenant_id": renamed.tenant_id, "user_id": renamed.user_id},
            )
            continue
        report.users += 1
        for page in leads.assigned_not_showing(renamed.tenant_id, renamed.user_id, user.name):
            for lead_id in page:
                if time_left_ms() < STOP_BEFORE_TIMEOUT_MS:
                    logger.warning(
                        "stopping before the timeout: the batch will be delivered again",
                        extra={
                            "tenant_id": renamed.tenant_id,
                            "user_id": renamed.user_id,
                            "leads_renamed": report.leads_renamed,
                        },
                    )
                    raise OutOfTime(f"{report.leads_renamed} leads renamed before the time ran out")
                if leads.show_assignee_name(renamed.tenant_id, lead_id, renamed.user_id, user.name):
                    report.leads_renamed += 1
                else:
                    report.leads_skipped += 1
    return report
