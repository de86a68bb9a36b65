"""The single-table key schema: the only place that knows how keys are spelled.

Which entity lives under which keys, and which index serves which query, is described once, in
docs/data-model.md (tests/unit/test_key_schema.py checks that page against this module). Sort
keys of the name indexes end in the zero-padded id, so ties break by id and pages never repeat or
skip a lead.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leads_shared.company_names import normalise_company_name

if TYPE_CHECKING:
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

    @property
    def sort_attribute(self) -> str:
        """The index's sort key attribute (``GSI1SK`` for ``GSI1PK``, ...)."""
        return self.attribute.removesuffix("PK") + "SK"

    def start_after(self, primary: dict[str, str], sort_key: str) -> dict[str, str]:
        """A Query's ``ExclusiveStartKey`` in this partition: after the item with the table key
        ``primary`` and this index sort key."""
        return {**primary, self.attribute: self.value, self.sort_attribute: sort_key}


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
        if lead.email:
            keys.update(EmailLookup.keys(t, lead.email, f"{cls.LOOKUP_PREFIX}{padded(lead.id)}"))
        return keys

    # A lead's LOOKUP sort key starts so (the partition of an email holds contacts too).
    LOOKUP_PREFIX = f"{SK}#"

    # A lead's own partition: the lead, then its children, each kind under its prefix.
    NOTE = "NOTE#"
    TASK = "TASK#"

    @classmethod
    def note(cls, tenant_id: str, lead_id: int, note_id: int) -> dict[str, str]:
        return {"PK": cls.pk(tenant_id, lead_id), "SK": f"{cls.NOTE}{padded(note_id)}"}

    @classmethod
    def task(cls, tenant_id: str, lead_id: int, task_id: int) -> dict[str, str]:
        return {"PK": cls.pk(tenant_id, lead_id), "SK": f"{cls.TASK}{padded(task_id)}"}

    # Sorts before ``LEAD``: the lead-with-notes Query (``LEAD`` to ``NOTE#~``) skips links.
    EMAIL = "EMAIL#"

    @classmethod
    def email_link(cls, tenant_id: str, lead_id: int, email_id: int) -> dict[str, str]:
        return {"PK": cls.pk(tenant_id, lead_id), "SK": f"{cls.EMAIL}{padded(email_id)}"}


class LeadHistoryKeys:
    """A lead's history: one item per change of the lead (``models.history.HistoryEntry``), in
    the lead's own partition, so a delete to the recycle bin leaves it beside the trashed lead and
    a removal for good (or TTL's removal of the trashed lead) takes it. ``CHANGE#`` sorts first in
    the partition (before ``EMAIL#`` and ``LEAD``): no read of the lead, its notes or its email
    links meets it, and the history route reads it with the lead in one Query (``CHANGE#`` to
    ``LEAD``). Within it, changes sort by time, then by the version the change wrote."""

    PREFIX = "CHANGE#"

    @classmethod
    def entry(cls, tenant_id: str, lead_id: int, at: str, version: int) -> dict[str, str]:
        return {"PK": LeadKeys.pk(tenant_id, lead_id), "SK": f"{cls.PREFIX}{at}#{padded(version)}"}


class TrashKeys:
    """A deleted lead in the recycle bin: one item in the lead's own partition (its notes, tasks
    and email links stay there, untouched), under a sort key no read of a live lead names, so
    every route that reads ``LEAD`` finds nothing. It is in none of a live lead's indexes; it is
    in two sparse partitions of GSI1 and GSI2 (their key attributes are free on it): the
    tenant's trash and each deleting user's, both sorted by deletion time then id."""

    SK = "TRASH"

    @classmethod
    def primary(cls, tenant_id: str, lead_id: int) -> dict[str, str]:
        return {"PK": LeadKeys.pk(tenant_id, lead_id), "SK": cls.SK}

    @staticmethod
    def of_tenant(tenant_id: str) -> IndexPartition:
        """Every deleted lead of the tenant, by deletion time."""
        return IndexPartition("GSI1", "GSI1PK", f"TENANT#{tenant_id}#TRASH")

    @staticmethod
    def of_deleter(tenant_id: str, user_id: int) -> IndexPartition:
        """The leads one user deleted, by deletion time."""
        return IndexPartition("GSI2", "GSI2PK", f"TENANT#{tenant_id}#TRASH#USER#{user_id}")

    @staticmethod
    def sort_key(deleted_at: str, lead_id: int) -> str:
        return f"{deleted_at}#{padded(lead_id)}"

    @classmethod
    def all_keys(cls, tenant_id: str, lead_id: int, deleted_at: str, deleted_by: int) -> dict[str, str]:
        sort_key = cls.sort_key(deleted_at, lead_id)
        return {
            **cls.primary(tenant_id, lead_id),
            "GSI1PK": cls.of_tenant(tenant_id).value,
            "GSI1SK": sort_key,
            "GSI2PK": cls.of_deleter(tenant_id, deleted_by).value,
            "GSI2SK": sort_key,
        }


class MergeKeys:
    """A merge (``POST /leads/{id}/merge``), in two kinds of items of the leads' own partitions.

    - The merge record: ``MERGE#<merge_id>`` in the survivor's partition (what the merge wrote and
      how far it got: claimed, children moving, done, undoing, undone), so the merge's work can be
      resumed, and undone, from it; ``GET /leads/{id}/merges`` reads the survivor's.
    - A merged-away lead: its lead item moves to ``MERGED`` in its own partition (with
      ``merged_into`` and the merge's id), in none of a live lead's indexes, as a trashed lead
      is; its history stays beside it.

    Both sort between ``LEAD`` and ``NOTE#``: ``GET /leads/{id}`` (``LEAD`` to ``NOTE#~``) finds a
    merged-away lead's item in the Query it makes anyway (its 404 names ``merged_into``), and
    every read of a lead's notes takes the ``NOTE#`` items only."""

    MERGED = "MERGED"
    RECORD = "MERGE#"

    @classmethod
    def merged(cls, tenant_id: str, lead_id: int) -> dict[str, str]:
        return {"PK": LeadKeys.pk(tenant_id, lead_id), "SK": cls.MERGED}

    @classmethod
    def record(cls, tenant_id: str, survivor_id: int, merge_id: str) -> dict[str, str]:
        return {"PK": LeadKeys.pk(tenant_id, survivor_id), "SK": f"{cls.RECORD}{merge_id}"}


# The fields ``GET /leads`` sorts by (``sort_by``), each with an index entry per lead.
ORDER_FIELDS = ("name", "email", "company_name", "status", "source", "assigned_to_name", "created_at")


def order_key(field: str, lead: Lead) -> str:
    """A lead's sort key for ``sort_by=field``: the name key, or the field's text (case-folded,
    missing first), then the id; ``created_at`` keys start with the timestamp (dates are ranges)."""
    if field == "name":
        return name_sort_key(lead.first_name, lead.last_name, lead.id)
    value = {
        "email": lead.email,
        "company_name": lead.company,
        "status": lead.status,
        "source": lead.source,
        "assigned_to_name": lead.assigned_to_name,
        "created_at": lead.created_at,
    }[field]
    return text_sort_key(value, lead.id)


@dataclass(frozen=True)
class OrderIndex:
    """One of the four indexes of the order entries: every lead (``BYALL``), or the leads of one
    status, one assignee or one source (any case), each partition in one field's order."""

    name: str
    dimension: str  # "" for every lead; else what the partition key names after the field

    def partition(self, tenant_id: str, field: str, value: str = "") -> IndexPartition:
        suffix = f"#{self.dimension}#{value}" if self.dimension else ""
        return IndexPartition(self.name, f"{self.name}PK", f"TENANT#{tenant_id}#BY#{field}{suffix}", False)


BY_ALL = OrderIndex("BYALL", "")
BY_STATUS = OrderIndex("BYSTATUS", "STATUS")
BY_USER = OrderIndex("BYUSER", "USER")
BY_SOURCE = OrderIndex("BYSOURCE", "SOURCE")
ORDER_INDEXES = (BY_ALL, BY_STATUS, BY_USER, BY_SOURCE)
SEARCH_INDEX = "SEARCH"


def source_key(source: str | None) -> str | None:
    """What ``source`` is filtered by: exact, any case (None: no source)."""
    return source.casefold()[: 2 * KEY_PART_CHARS] if source else None


class DuplicateClaimKeys:
    """A match key held for a moment by the create that refuses duplicates and wrote a lead with
    it (``on_duplicate=reject``): put in that lead's transaction on condition that no other such
    create holds it (or that its hold expired, or names a lead that no longer has the key), so of
    rejecting creates racing with one email, phone, or name and company, one wins before any
    index shows the winner. In no index; ``expires_at`` (the table's TTL) removes it. The key's
    value is hashed, but a hash of an address can be checked against a list of addresses: an
    erasure deletes the claim of its address (named by it: no read)."""

    SK = "CLAIM"

    @classmethod
    def primary(cls, tenant_id: str, kind: str, value: str) -> dict[str, str]:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
        return {"PK": f"TENANT#{tenant_id}#CLAIM#{kind}#{digest}", "SK": cls.SK}


class LeadIndexKeys:
    """A lead's index entries, in its own partition (its delete takes them): one per sort field
    (``ORDER#<field>``: its keys in the four BY indexes, and the attributes filters read), one
    per search token (``TOKEN#<token>``: its key in SEARCH, partitioned by the token's first
    character and a shard of the lead id, so a common first letter is not one hot partition),
    and one per match key but the email (``SAME#<kind>``: its key in a sparse partition of SEARCH,
    ``TENANT#<t>#MATCH#<kind>#<value>``, sorted by id; ``match_keys`` says what the values are)."""

    ORDER = "ORDER#"
    TOKEN = "TOKEN#"
    # Sorts after ``NOTE#~``: the reads of ``LEAD`` to ``NOTE#~`` and ``EMAIL#`` to ``LEAD`` never
    # meet a match entry.
    MATCH = "SAME#"
    SEARCH_SHARDS = 4

    @classmethod
    def order_entry(cls, tenant_id: str, lead_id: int, field: str) -> dict[str, str]:
        return {"PK": LeadKeys.pk(tenant_id, lead_id), "SK": f"{cls.ORDER}{field}"}

    @classmethod
    def token_entry(cls, tenant_id: str, lead_id: int, token: str) -> dict[str, str]:
        return {"PK": LeadKeys.pk(tenant_id, lead_id), "SK": f"{cls.TOKEN}{token}"}

    @classmethod
    def order_keys(cls, lead: Lead, field: str) -> dict[str, Any]:
        """The order entry of ``lead`` for ``field``: its keys and what filters read."""
        t, key = lead.tenant_id, order_key(field, lead)
        entry: dict[str, Any] = {
            **cls.order_entry(t, lead.id, field),
            "id": lead.id,
            "status": lead.status,
            "created_at": lead.created_at,
            "BYALLPK": BY_ALL.partition(t, field).value,
            "BYALLSK": key,
            "BYSTATUSPK": BY_STATUS.partition(t, field, lead.status).value,
            "BYSTATUSSK": key,
        }
        if lead.assigned_to is not None:
            entry.update(
                assigned_to=lead.assigned_to,
                BYUSERPK=BY_USER.partition(t, field, str(lead.assigned_to)).value,
                BYUSERSK=key,
            )
        source = source_key(lead.source)
        if source:
            entry.update(
                source_key=source, BYSOURCEPK=BY_SOURCE.partition(t, field, source).value, BYSOURCESK=key
            )
        return entry

    @classmethod
    def search_partition(cls, tenant_id: str, first: str, shard: int) -> IndexPartition:
        return IndexPartition(SEARCH_INDEX, "SEARCHPK", f"TENANT#{tenant_id}#TOKEN#{first}#{shard}", False)

    @classmethod
    def token_keys(cls, tenant_id: str, lead_id: int, token: str) -> dict[str, Any]:
        partition = cls.search_partition(tenant_id, token[0], lead_id % cls.SEARCH_SHARDS)
        return {
            **cls.token_entry(tenant_id, lead_id, token),
            "id": lead_id,
            "SEARCHPK": partition.value,
            "SEARCHSK": f"{token}{_SEP}{padded(lead_id)}",
        }

    @classmethod
    def match_entry(cls, tenant_id: str, lead_id: int, kind: str) -> dict[str, str]:
        return {"PK": LeadKeys.pk(tenant_id, lead_id), "SK": f"{cls.MATCH}{kind}"}

    @staticmethod
    def match_partition(tenant_id: str, kind: str, value: str) -> IndexPartition:
        """The leads with this match key (``match_keys``): ids only, by id."""
        return IndexPartition(SEARCH_INDEX, "SEARCHPK", f"TENANT#{tenant_id}#MATCH#{kind}#{value}", False)

    @classmethod
    def match_keys(cls, tenant_id: str, lead_id: int, kind: str, value: str) -> dict[str, Any]:
        return {
            **cls.match_entry(tenant_id, lead_id, kind),
            "id": lead_id,
            "SEARCHPK": cls.match_partition(tenant_id, kind, value).value,
            "SEARCHSK": padded(lead_id),
        }


class PastEmailKeys:
    """An address a lead had and lost (its email changed away from it): one item per address in
    the lead's partition (``PAST#<lower address>``: sorts between ``ORDER#`` and ``SAME#``, so no
    read of the lead, its notes, links or history meets it), written in the transaction of the
    change. Its key in a sparse partition of SEARCH, per tenant and address, is how an erasure
    finds the leads whose history holds the address (``erasure``). A delete of the lead takes it;
    its trash keeps it (it is no index entry of a live lead)."""

    PREFIX = "PAST#"

    @classmethod
    def entry(cls, tenant_id: str, lead_id: int, email: str) -> dict[str, str]:
        return {"PK": LeadKeys.pk(tenant_id, lead_id), "SK": f"{cls.PREFIX}{email.strip().lower()}"}

    @staticmethod
    def of_address(tenant_id: str, email: str) -> IndexPartition:
        """The leads that had this address (ids, by id)."""
        address = email.strip().lower()
        return IndexPartition(SEARCH_INDEX, "SEARCHPK", f"TENANT#{tenant_id}#PAST#{address}", False)

    @classmethod
    def keys(cls, tenant_id: str, lead_id: int, email: str) -> dict[str, Any]:
        return {
            **cls.entry(tenant_id, lead_id, email),
            "id": lead_id,
            "SEARCHPK": cls.of_address(tenant_id, email).value,
            "SEARCHSK": padded(lead_id),
        }


class ErasureKeys:
    """The receipts of erasures on request (GDPR Art. 17): one item per erasure in the tenant's
    partition (``ERASURE#<erasure id>``), holding no personal data, and in a sparse partition of
    GSI1 (``TENANT#<t>#ERASURES``, by time then id) that lists them newest first."""

    PREFIX = "ERASURE#"

    @classmethod
    def receipt(cls, tenant_id: str, erasure_id: str) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": f"{cls.PREFIX}{erasure_id}"}

    @staticmethod
    def of_tenant(tenant_id: str) -> IndexPartition:
        return IndexPartition("GSI1", "GSI1PK", f"TENANT#{tenant_id}#ERASURES")

    @staticmethod
    def sort_key(requested_at: str, erasure_id: str) -> str:
        return f"{requested_at}#{erasure_id}"

    @classmethod
    def all_keys(cls, tenant_id: str, erasure_id: str, requested_at: str) -> dict[str, str]:
        return {
            **cls.receipt(tenant_id, erasure_id),
            "GSI1PK": cls.of_tenant(tenant_id).value,
            "GSI1SK": cls.sort_key(requested_at, erasure_id),
        }


LOOKUP_INDEX = "LOOKUP"


class EmailLookup:
    """LOOKUP index entries of everything with an email (leads, contacts), per tenant and
    lower-cased address: match-contact (and imports, and email linking) read them by Query."""

    @staticmethod
    def partition(tenant_id: str, email: str) -> IndexPartition:
        return IndexPartition(LOOKUP_INDEX, "LOOKUPPK", f"TENANT#{tenant_id}#EMAIL#{email.strip().lower()}")

    @classmethod
    def keys(cls, tenant_id: str, email: str, sort_key: str) -> dict[str, str]:
        return {"LOOKUPPK": cls.partition(tenant_id, email).value, "LOOKUPSK": sort_key}


class ContactKeys:
    SK = "CONTACT"

    @classmethod
    def primary(cls, tenant_id: str, contact_id: int) -> dict[str, str]:
        return {"PK": f"TENANT#{tenant_id}#CONTACT#{contact_id}", "SK": cls.SK}

    @classmethod
    def all_keys(cls, tenant_id: str, contact_id: int, email: str | None) -> dict[str, str]:
        keys = cls.primary(tenant_id, contact_id)
        if email:
            keys.update(EmailLookup.keys(tenant_id, email, f"{cls.SK}#{padded(contact_id)}"))
        return keys


class CompanyKeys:
    SK = "COMPANY"

    @classmethod
    def primary(cls, tenant_id: str, company_id: int) -> dict[str, str]:
        return {"PK": f"TENANT#{tenant_id}#COMPANY#{company_id}", "SK": cls.SK}

    @staticmethod
    def by_name(tenant_id: str) -> IndexPartition:
        """The tenant's companies, by normalised name (see ``company_names``)."""
        return IndexPartition(LOOKUP_INDEX, "LOOKUPPK", f"TENANT#{tenant_id}#COMPANIES")

    @staticmethod
    def name_prefix(name: str) -> str:
        """What a company's LOOKUP sort key starts with when its name matches ``name``."""
        return normalise_company_name(name)[: 2 * KEY_PART_CHARS]

    @classmethod
    def all_keys(cls, tenant_id: str, company_id: int, name: str) -> dict[str, str]:
        return {
            **cls.primary(tenant_id, company_id),
            "LOOKUPPK": cls.by_name(tenant_id).value,
            "LOOKUPSK": f"{cls.name_prefix(name)}{_SEP}{padded(company_id)}",
        }


class DealKeys:
    SK = "DEAL"

    @classmethod
    def primary(cls, tenant_id: str, deal_id: int) -> dict[str, str]:
        return {"PK": f"TENANT#{tenant_id}#DEAL#{deal_id}", "SK": cls.SK}


class ImportKeys:
    """An import job's item, and its objects in the bucket: the upload (whose S3 event names the
    job) and the error report (under ``tmp/``, which the bucket's lifecycle empties)."""

    SK = "IMPORT"
    _UPLOAD = re.compile(r"imports/(?P<tenant>[A-Za-z0-9_.-]{1,64})/(?P<job>[0-9a-f]{32})\.csv")

    @classmethod
    def primary(cls, tenant_id: str, import_id: str) -> dict[str, str]:
        return {"PK": f"TENANT#{tenant_id}#IMPORT#{import_id}", "SK": cls.SK}

    @staticmethod
    def upload(tenant_id: str, import_id: str) -> str:
        return f"imports/{tenant_id}/{import_id}.csv"

    @classmethod
    def of_upload(cls, object_key: str) -> tuple[str, str] | None:
        """The tenant and import id an upload's object key names (None: not an import's upload)."""
        match = cls._UPLOAD.fullmatch(object_key)
        return (match["tenant"], match["job"]) if match else None

    @staticmethod
    def report(tenant_id: str, import_id: str) -> str:
        return f"tmp/reports/{tenant_id}/{import_id}.csv"


class ExportKeys:
    """An export job's item, and the file it writes (under ``tmp/``, which the bucket's lifecycle
    empties after 7 days; the item's TTL goes with it)."""

    SK = "EXPORT"

    @classmethod
    def primary(cls, tenant_id: str, export_id: str) -> dict[str, str]:
        return {"PK": f"TENANT#{tenant_id}#EXPORT#{export_id}", "SK": cls.SK}

    @staticmethod
    def file(tenant_id: str, export_id: str) -> str:
        return f"tmp/exports/{tenant_id}/{export_id}.csv"


class IdempotencyKeys:
    """Powertools' idempotency records: one partition per tenant, its sort key the hashed key."""

    PK_ATTRIBUTE = "PK"
    SK_ATTRIBUTE = "SK"

    @staticmethod
    def partition(tenant_id: str) -> str:
        return f"TENANT#{tenant_id}#IDEMPOTENCY"


class SequenceKeys:
    """One item per tenant holding the id sequences of notes, tasks, contacts, companies and
    deals (attributes named after the kind). Ids are taken with an atomic ``ADD``."""

    SK = "SEQUENCES"

    @classmethod
    def primary(cls, tenant_id: str) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": cls.SK}


KEY_ATTRIBUTES = frozenset(
    {
        "PK",
        "SK",
        "GSI1PK",
        "GSI1SK",
        "GSI2PK",
        "GSI2SK",
        "GSI3PK",
        "GSI3SK",
        "LISTPK",
        "LISTSK",
        "LOOKUPPK",
        "LOOKUPSK",
        *(f"{index.name}{part}" for index in ORDER_INDEXES for part in ("PK", "SK")),
        "SEARCHPK",
        "SEARCHSK",
    }
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
    """The tenant's directory, all in the tenant's partition (one Query reads a kind): users,
    teams, deal stages, and the markers that keep a user's email and identity-provider subject
    unique in the tenant (each holds ``user_id``)."""

    USER = "USER#"
    TEAM = "TEAM#"
    STAGE = "STAGE#"
    EXTERNAL_ID = "EXTID#"
    USER_EMAIL = "USEREMAIL#"
    # Written once, with the default pipeline: a tenant gets it on first use, once.
    PIPELINE_SK = "PIPELINE"

    @classmethod
    def user(cls, tenant_id: str, user_id: int) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": f"{cls.USER}{padded(user_id, 9)}"}

    @classmethod
    def team(cls, tenant_id: str, team_id: int) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": f"{cls.TEAM}{padded(team_id, 9)}"}

    @classmethod
    def stage(cls, tenant_id: str, stage_id: int) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": f"{cls.STAGE}{padded(stage_id, 9)}"}

    @classmethod
    def external_id(cls, tenant_id: str, subject: str) -> dict[str, str]:
        """The marker of a subject (hashed: a subject is any string of up to 255 characters)."""
        digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()
        return {"PK": tenant_pk(tenant_id), "SK": f"{cls.EXTERNAL_ID}{digest}"}

    @classmethod
    def user_email(cls, tenant_id: str, email: str) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": f"{cls.USER_EMAIL}{email.strip().lower()}"}

    @classmethod
    def pipeline(cls, tenant_id: str) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": cls.PIPELINE_SK}


class TenantKeys:
    """The tenant's settings: one item in the tenant's own partition."""

    SETTINGS = "SETTINGS"

    @classmethod
    def settings(cls, tenant_id: str) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": cls.SETTINGS}


class ScimTokenKeys:
    """A tenant's SCIM bearer token: the tenant's item holds the hash of its current token, and
    one global item per hash says whose it is (what a SCIM request's token is looked up by)."""

    SK = "SCIMTOKEN"

    @classmethod
    def tenant(cls, tenant_id: str) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": cls.SK}

    @classmethod
    def lookup(cls, token_hash: str) -> dict[str, str]:
        return {"PK": f"SCIMTOKEN#{token_hash}", "SK": cls.SK}


class MailKeys:
    """Emails (captured by the drop-box, or logged by hand), what finds them, and what dedupes
    them. Links of an email to a lead live in the lead's partition (``LeadKeys.email_link``)."""

    SK = "MAIL"
    MARKER_SK = "MSGID"

    @staticmethod
    def pk(tenant_id: str, email_id: int) -> str:
        return f"TENANT#{tenant_id}#MAIL#{email_id}"

    @classmethod
    def primary(cls, tenant_id: str, email_id: int) -> dict[str, str]:
        return {"PK": cls.pk(tenant_id, email_id), "SK": cls.SK}

    @staticmethod
    def sent_to(tenant_id: str, address: str) -> str:
        """The partition of the emails of the tenant with ``address`` on From, To or Cc."""
        return f"TENANT#{tenant_id}#MAILTO#{address.strip().lower()}"

    @classmethod
    def participant(cls, tenant_id: str, email_id: int, address: str) -> dict[str, str]:
        """The item saying "``address`` took part in email ``email_id``"."""
        return {"PK": cls.sent_to(tenant_id, address), "SK": f"{cls.SK}#{padded(email_id)}"}

    @staticmethod
    def links_of(tenant_id: str, email_id: int) -> IndexPartition:
        """The links of one email to leads (a sparse partition of SEARCH, by lead id): what an
        erasure of the email deletes, wherever the links are."""
        return IndexPartition(SEARCH_INDEX, "SEARCHPK", f"TENANT#{tenant_id}#MAILLINKS#{email_id}", False)

    @classmethod
    def link_index_keys(cls, tenant_id: str, email_id: int, lead_id: int) -> dict[str, str]:
        return {"SEARCHPK": cls.links_of(tenant_id, email_id).value, "SEARCHSK": padded(lead_id)}

    @classmethod
    def message_marker(cls, tenant_id: str, message_id: str) -> dict[str, str]:
        """One per tenant and Message-ID: written only with the first delivery of a message."""
        digest = hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()
        return {"PK": f"TENANT#{tenant_id}#MSGID#{digest}", "SK": cls.MARKER_SK}

    @staticmethod
    def rejected(day: str, bucket: str, key: str) -> dict[str, str]:
        """A rejected inbound message, per day of receipt and object (a redelivery overwrites)."""
        return {"PK": f"INBOUND#REJECTED#{day}", "SK": f"{bucket}/{key}"}


class FormKeys:
    """Lead forms. A form's item is in the tenant's partition (one Query lists them); its public
    key's lookup item says whose form a key is; everything a form receives lives in the form's own
    partition: its submissions (newest last), the markers that make a submission count once, and
    the per-minute counters of its rate limits (the markers and counters expire by TTL)."""

    FORM = "FORM#"
    KEY_SK = "FORMKEY"
    SUBMISSION = "SUB#"
    ONCE = "ONCE#"
    RATE = "RATE#"

    @classmethod
    def form(cls, tenant_id: str, form_id: int) -> dict[str, str]:
        return {"PK": tenant_pk(tenant_id), "SK": f"{cls.FORM}{padded(form_id, 9)}"}

    @classmethod
    def public_key(cls, key: str) -> dict[str, str]:
        return {"PK": f"FORMKEY#{key}", "SK": cls.KEY_SK}

    @staticmethod
    def partition(tenant_id: str, form_id: int) -> str:
        return f"TENANT#{tenant_id}#FORM#{form_id}"

    @classmethod
    def submission(cls, tenant_id: str, form_id: int, received_at: str, submission_id: str) -> dict[str, str]:
        return {
            "PK": cls.partition(tenant_id, form_id),
            "SK": f"{cls.SUBMISSION}{received_at}#{submission_id}",
        }

    @staticmethod
    def submitted_by(tenant_id: str, email: str) -> IndexPartition:
        """The tenant's submissions (of any form) with this email (a sparse partition of SEARCH,
        by form, time and id): what an erasure of the address deletes."""
        address = email.strip().lower()
        return IndexPartition(SEARCH_INDEX, "SEARCHPK", f"TENANT#{tenant_id}#SUBMITTED#{address}", False)

    @classmethod
    def submission_index_keys(
        cls, tenant_id: str, form_id: int, received_at: str, submission_id: str, email: str
    ) -> dict[str, str]:
        return {
            "SEARCHPK": cls.submitted_by(tenant_id, email).value,
            "SEARCHSK": f"{padded(form_id, 9)}#{received_at}#{submission_id}",
        }

    @classmethod
    def once(cls, tenant_id: str, form_id: int, fingerprint: str) -> dict[str, str]:
        """``fingerprint``: sha256 of the submission's values, or of its ``submission_id``."""
        return {"PK": cls.partition(tenant_id, form_id), "SK": f"{cls.ONCE}{fingerprint}"}

    @classmethod
    def rate(cls, tenant_id: str, form_id: int, minute: int, ip: str | None = None) -> dict[str, str]:
        """The counter of one minute (unix minutes): of the whole form, or of one client IP."""
        suffix = f"#IP#{ip}" if ip else ""
        return {"PK": cls.partition(tenant_id, form_id), "SK": f"{cls.RATE}{minute}{suffix}"}
