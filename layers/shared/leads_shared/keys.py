"""The single-table key schema: the only place that knows how keys are spelled.

- lead: ``PK=TENANT#<t>#LEAD#<id>``, ``SK=LEAD``;
  GSI1 ``TENANT#<t>#LEADS`` / name key (all leads by name);
  GSI2 ``TENANT#<t>#LEADS#STATUS#<status>`` / name key (one status, by name);
  GSI3 ``TENANT#<t>#LEADS#USER#<user>`` / name key (one assignee, by name; unassigned: absent);
  LIST ``TENANT#<t>#LEADS`` / ``<created_at>#<id>`` (narrow projection, by creation time).
- lead stats (id sequence and counts): ``PK=TENANT#<t>``, ``SK=STATS#LEADS``.
- user / team / deal stage: ``PK=TENANT#<t>``, ``SK=USER#<id>`` / ``TEAM#<id>`` / ``STAGE#<id>``.

A lead's partition (``TENANT#<t>#LEAD#<id>``) is where its notes and tasks will live, so one
Query reads a lead with them. Sort keys of the name indexes end in the zero-padded id, so ties
break by id and pages never repeat or skip a lead. The README's access-pattern table says which
index serves which query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leads_shared.models.leads import Lead

# Separates the parts of a sort key; lower than any printable character so that
# ("ann", "smith") sorts before ("anna", "b"), as a (first, last) comparison would.
_SEP = "\x01"
ID_WIDTH = 12
# DynamoDB caps an index sort key at 1,024 bytes. Each name part of a sort key keeps its first
# 100 characters (at most 400 bytes in UTF-8); past that, ties break by id.
KEY_PART_CHARS = 100


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def padded(number: int, width: int = ID_WIDTH) -> str:
    return f"{number:0{width}d}"


def name_sort_key(first_name: str, last_name: str, lead_id: int) -> str:
    """The order of ``sort_by=name``: first name, then last name, case-insensitive, then id."""
    first, last = first_name.casefold()[:KEY_PART_CHARS], last_name.casefold()[:KEY_PART_CHARS]
    return f"{first}{_SEP}{last}{_SEP}{padded(lead_id)}"


def text_sort_key(value: str | None, lead_id: int) -> str:
    """The order of the other text sorts: case-insensitive, missing values first, then id."""
    return f"{(value or '').casefold()[: 2 * KEY_PART_CHARS]}{_SEP}{padded(lead_id)}"


@dataclass(frozen=True)
class IndexPartition:
    """One partition of one index: what a Query names in its key condition."""

    index: str
    attribute: str
    value: str
    # False for the narrow LIST index: its rows hold only what filters and sorts read.
    projects_all: bool = True


class LeadKeys:
    SK = "LEAD"

    @staticmethod
    def pk(tenant_id: str, lead_id: int) -> str:
        return f"TENANT#{tenant_id}#LEAD#{lead_id}"

    @classmethod
    def primary(cls, tenant_id: str, lead_id: int) -> dict[str, str]:
        return {"PK": cls.pk(tenant_id, lead_id), "SK": cls.SK}

    @staticmethod
    def all_leads(tenant_id: str) -> str:
        return f"TENANT#{tenant_id}#LEADS"

    @staticmethod
    def by_status(tenant_id: str, status: str) -> str:
        return f"TENANT#{tenant_id}#LEADS#STATUS#{status}"

    @staticmethod
    def by_assignee(tenant_id: str, user_id: int) -> str:
        return f"TENANT#{tenant_id}#LEADS#USER#{user_id}"

    @classmethod
    def by_name(cls, tenant_id: str) -> IndexPartition:
        """Every lead of the tenant, by name."""
        return IndexPartition("GSI1", "GSI1PK", cls.all_leads(tenant_id))

    @classmethod
    def by_status_then_name(cls, tenant_id: str, status: str) -> IndexPartition:
        return IndexPartition("GSI2", "GSI2PK", cls.by_status(tenant_id, status))

    @classmethod
    def by_assignee_then_name(cls, tenant_id: str, user_id: int) -> IndexPartition:
        return IndexPartition("GSI3", "GSI3PK", cls.by_assignee(tenant_id, user_id))

    @classmethod
    def by_creation(cls, tenant_id: str) -> IndexPartition:
        """The tenant's narrow list (only what filters and sorts read), by creation time."""
        return IndexPartition("LIST", "LISTPK", cls.all_leads(tenant_id), projects_all=False)

    @staticmethod
    def list_sk(created_at: str, lead_id: int) -> str:
        return f"{created_at}#{padded(lead_id)}"

    @classmethod
    def all_keys(cls, lead: Lead) -> dict[str, Any]:
        """Primary and index keys of a stored lead (an unassigned lead is not in GSI3)."""
        t = lead.tenant_id
        name_key = name_sort_key(lead.first_name, lead.last_name, lead.id)
        keys: dict[str, Any] = {
            **cls.primary(t, lead.id),
            "GSI1PK": cls.all_leads(t),
            "GSI1SK": name_key,
            "GSI2PK": cls.by_status(t, lead.status),
            "GSI2SK": name_key,
            "LISTPK": cls.all_leads(t),
            "LISTSK": cls.list_sk(lead.created_at, lead.id),
        }
        if lead.assigned_to is not None:
            keys["GSI3PK"] = cls.by_assignee(t, lead.assigned_to)
            keys["GSI3SK"] = name_key
        return keys


KEY_ATTRIBUTES = frozenset(
    {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "LISTPK", "LISTSK"}
)


class LeadStatsKeys:
    """One item per tenant: the lead id sequence and the counts behind ``total``."""

    SK = "STATS#LEADS"
    SEQUENCE = "lead_seq"  # the last lead id given out
    TOTAL = "total"

    @classmethod
    def primary(cls, tenant_id: str) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": cls.SK}

    @staticmethod
    def status_counter(status: str) -> str:
        return f"status_{status}"

    @staticmethod
    def assignee_counter(user_id: int) -> str:
        return f"user_{user_id}"


class DirectoryKeys:
    USER = "USER#"
    TEAM = "TEAM#"
    STAGE = "STAGE#"

    @classmethod
    def user(cls, tenant_id: str, user_id: int) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": f"{cls.USER}{padded(user_id, 9)}"}

    @classmethod
    def team(cls, tenant_id: str, team_id: int) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": f"{cls.TEAM}{padded(team_id, 9)}"}

    @classmethod
    def stage(cls, tenant_id: str, stage_id: int) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": f"{cls.STAGE}{padded(stage_id, 9)}"}
