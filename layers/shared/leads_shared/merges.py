"""Merging leads into one (``POST /leads/{id}/merge``), and undoing a merge.

- **Who**: any user of the tenant, as for ``PUT`` and ``DELETE`` of a lead (the API has no
  per-lead edit rule: every user of a tenant may edit each of its leads).
- **What**: the survivor (the lead of the path) takes, for each field of ``MERGE_FIELDS``, the
  value of the lead ``fields`` names, else its own, else the first non-empty value among
  ``merge_ids`` in their order (``choose_values``). Its status, qualification and everything
  else stay its own. The others' notes, tasks and email links move to it (an email linked to
  both is linked once); the others become merged: 404 with ``merged_into`` on ``GET``, gone
  from every list, search, count, duplicates match and email lookup, not in the recycle bin.
  Their history stays with them, and each lead's history records the merge (``merged``).
- **Refused**: a qualified lead merged away (409: its contact points at it); the survivor may be
  qualified (it stays so, its contact keeps pointing at it). The same lead twice, the survivor
  among ``merge_ids``, a ``fields`` lead not in the merge: 422. An unknown lead, another
  tenant's or one in the recycle bin: 404 (a merged-away one: 404 with ``merged_into``).
- **All of it, whatever happens**: the work is done in steps (``data.merge_store``), the first
  of which claims the leads in one transaction and writes the merge record; from there on, the
  merge is finished by whoever comes next: the same request retried, or any merge or undo naming
  one of its leads (``_finish_unfinished``). Two merges of the same leads at once: the first
  claim wins, the other is a 409. A retry of a merge already done answers what it did.
- **Undo** (``undo_merge``, 30 days): the merged-away leads come back with their own values,
  children and history; the survivor's fields the merge changed get their values from before
  it, except those changed since (then the newer value is kept, and the answer names them).
  A merge an erasure on request reached (``erased_at``: it took a merged lead, or blanked an
  address out of the record's copies) cannot be undone: 409 (``erasure``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from leads_shared.clock import format_timestamp
from leads_shared.data.idempotency import run_once
from leads_shared.data.merge_store import ChildChanged, MergedLead, MergeRace, email_links
from leads_shared.errors import Conflict, MergedAway, NotFound, ValidationFailed
from leads_shared.lead_history import change, expiry, user_actor
from leads_shared.leads import link_captured_emails
from leads_shared.models.history import MergeMark
from leads_shared.models.leads import LeadOut
from leads_shared.models.merges import (
    MERGE_FIELDS,
    MergeList,
    MergeRecord,
    MergeResult,
    MergeSummary,
    MovedCounts,
    UndoResult,
)
from leads_shared.versioning import MAX_WRITE_ATTEMPTS, next_version

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from leads_shared.auth import Principal
    from leads_shared.data.mail_store import MailStore
    from leads_shared.data.merge_store import LeadPartition, MergeStore
    from leads_shared.models.history import Actor, HistoryEntry
    from leads_shared.models.leads import Lead
    from leads_shared.models.merges import MergeRequest

UNDO_DAYS = 30
UNFINISHED = ("moving", "undoing")


# ------------------------------------------------------------------ the rules
def check_request(survivor_id: int, request: MergeRequest) -> None:
    """The request's own errors (422), before anything is read."""
    if survivor_id in request.merge_ids:
        raise ValidationFailed({"merge_ids": ["A lead cannot be merged into itself."]})
    if len(set(request.merge_ids)) != len(request.merge_ids):
        raise ValidationFailed({"merge_ids": ["Each lead may be named once."]})
    unknown = [field for field in request.fields if field not in MERGE_FIELDS]
    if unknown:
        message = f"The selected field is invalid. Allowed values: {', '.join(MERGE_FIELDS)}."
        raise ValidationFailed({f"fields.{field}": [message] for field in unknown})
    named = {survivor_id, *request.merge_ids}
    wrong = [field for field, lead_id in request.fields.items() if lead_id not in named]
    if wrong:
        message = "The lead must be the survivor or one of merge_ids."
        raise ValidationFailed({f"fields.{field}": [message] for field in wrong})


def _empty(value: Any) -> bool:
    return value is None or value == ""


def choose_values(
    survivor: Lead, others: Sequence[Lead], fields: dict[str, int]
) -> tuple[dict[str, Any], dict[str, int]]:
    """What the survivor takes: the values that change (field -> value; an assignee with its
    name) and, for each, the lead it comes from. A field of ``fields`` takes that lead's value
    (even an empty one); any other keeps the survivor's, or when it is empty takes the first
    non-empty among ``others``, in their order."""
    by_id = {lead.id: lead for lead in (survivor, *others)}
    values: dict[str, Any] = {}
    chosen: dict[str, int] = {}
    for name in MERGE_FIELDS:
        if name in fields:
            source = by_id[fields[name]]
        elif _empty(getattr(survivor, name)):
            source = next((other for other in others if not _empty(getattr(other, name))), survivor)
        else:
            source = survivor
        value = getattr(source, name)
        if source.id != survivor.id and value != getattr(survivor, name):
            values[name] = value
            chosen[name] = source.id
            if name == "assigned_to":
                values["assigned_to_name"] = source.assigned_to_name
    return values, chosen


def reverted(record: MergeRecord, current: Lead) -> tuple[Lead, list[str]]:
    """The survivor with the fields its merge changed back to their values from before it, and
    the fields left as they are because they changed since the merge (the newer value kept)."""
    before = record.survivor_before
    back: dict[str, Any] = {}
    kept: list[str] = []
    for name in MERGE_FIELDS:
        if name not in record.values:
            continue
        if getattr(current, name) == record.values[name]:
            back[name] = getattr(before, name)
            if name == "assigned_to":
                back["assigned_to_name"] = before.assigned_to_name
        else:
            kept.append(name)
    return current.model_copy(update=back), kept


def _moved(survivor: LeadPartition, others: Sequence[LeadPartition]) -> dict[str, int]:
    """The children that move: the others', but for email links the survivor has already (its
    own, or one an earlier of ``others`` brings: an email linked to two of them moves once)."""
    links = email_links(survivor.children)
    counts = dict.fromkeys(("notes", "tasks", "emails"), 0)
    for other in others:
        for kind, count in other.count().items():
            counts[kind] += count
        counts["emails"] -= len(email_links(other.children) & links)
        links |= email_links(other.children)
    return counts


def merge_id_of(survivor: Lead) -> str:
    """A merge's id: the survivor's id and the version it was merged at. Two merges into one
    survivor at one version cannot both be claimed (the second finds the record's key taken),
    and every merge (and undo) moves the survivor's version on, so the next one has a new id."""
    return f"{survivor.id}-{survivor.version}"


def _mark(record: MergeRecord) -> MergeMark:
    return MergeMark(merge_id=record.merge_id, survivor_id=record.survivor_id, merged_ids=record.merged_ids)


def _live(found: LeadPartition, lead_id: int) -> Lead:
    """The partition's live lead: a merged-away one is a 404 naming its survivor."""
    if found.lead is not None:
        return found.lead
    if found.merged is not None:
        raise MergedAway(found.merged.merged_into, found.merged.merge_id)
    raise NotFound(f"Lead {lead_id}")


# ------------------------------------------------------------------ merge
def merge_once(
    principal: Principal,
    survivor_id: int,
    request: MergeRequest,
    key: str | None,
    merges: MergeStore,
    lambda_context: Any = None,
) -> MergeResult:
    """``merge_leads`` at most once per ``Idempotency-Key`` (as qualify): a retry with the same
    key and body answers what the first call did. A call that failed half-way keeps no answer,
    so its retry runs again, and finishes the merge it started."""

    def merge_it() -> dict[str, Any]:
        return merge_leads(principal, survivor_id, request, merges).model_dump()

    if key is None or request.dry_run:
        return MergeResult.model_validate(merge_it())
    scope = {"operation": "merge", "lead_id": survivor_id, "key": key}
    answer = run_once(principal.tenant_id, scope, request.model_dump(mode="json"), merge_it, lambda_context)
    return MergeResult.model_validate(answer)


def merge_leads(
    principal: Principal, survivor_id: int, request: MergeRequest, merges: MergeStore
) -> MergeResult:
    """Read the survivor's partition and the others' (one Query each), finish any unfinished
    merge found there, then claim, move and finish (``data.merge_store``). ``dry_run``: the
    reads only."""
    check_request(survivor_id, request)
    tenant_id = principal.tenant_id
    for _ in range(MAX_WRITE_ATTEMPTS):
        found = merges.partition(tenant_id, survivor_id)
        others = [merges.partition(tenant_id, lead_id) for lead_id in request.merge_ids]
        if _finish_unfinished([found, *others], merges):
            continue  # read again what the finished work changed
        done = _done_before(tenant_id, survivor_id, request, others, merges)
        if done is not None:
            return _result(done, _live(merges.partition(tenant_id, survivor_id), survivor_id))
        survivor = _live(found, survivor_id)
        leads = [_live(other, lead_id) for other, lead_id in zip(others, request.merge_ids, strict=True)]
        for lead in leads:
            if lead.contact_id is not None:
                raise Conflict(
                    f"Lead {lead.id} was qualified into contact {lead.contact_id}: it cannot be merged away."
                )
        values, chosen = choose_values(survivor, leads, request.fields)
        moved = _moved(found, others)
        if request.dry_run:
            return MergeResult(
                merge_id=None,
                dry_run=True,
                status=None,
                survivor=LeadOut.of(survivor.model_copy(update=values)),
                merged_ids=request.merge_ids,
                chosen=chosen,
                moved=MovedCounts(**moved),
                undo_until=None,
            )
        now = datetime.now(UTC)
        record = MergeRecord(
            tenant_id=tenant_id,
            merge_id=merge_id_of(survivor),
            survivor_id=survivor_id,
            merged_ids=request.merge_ids,
            status="moving",
            values=values,
            chosen=chosen,
            survivor_before=survivor,
            merged=leads,
            moved=moved,
            actor=user_actor(principal),
            merged_at=format_timestamp(now),
            undo_until=format_timestamp(now + timedelta(days=UNDO_DAYS)),
            expires_at=expiry(format_timestamp(now)),
        )
        try:
            merges.claim(record, survivor, [_merged_away(record, lead) for lead in leads])
        except MergeRace:
            _raced(tenant_id, [survivor_id, *request.merge_ids], merges)
            continue  # a lead changed: read them again
        return _result(record, _complete_merge(record, merges, found, survivor))
    raise Conflict("The leads are being changed by others. Please retry.")


def _merged_away(record: MergeRecord, lead: Lead) -> tuple[Lead, MergedLead, HistoryEntry]:
    """A lead's ``MERGED`` item (its version one more) and its history's ``merged`` entry."""
    gone = next_version(lead, lead, record.merged_at)
    entry = change(lead, gone, record.actor, "merged", record.merged_at, _mark(record))
    return lead, MergedLead(gone, record.survivor_id, record.merge_id, record.merged_at), entry


def _raced(tenant_id: str, lead_ids: Sequence[int], merges: MergeStore) -> None:
    """After a claim that failed: a 409 when another merge took one of the leads meanwhile."""
    for lead_id in lead_ids:
        merged = merges.merged_lead(tenant_id, lead_id)
        if merged is not None:
            raise Conflict(
                f"Lead {lead_id} was merged into lead {merged.merged_into} by another request meanwhile."
            )


def _done_before(
    tenant_id: str,
    survivor_id: int,
    request: MergeRequest,
    others: Sequence[LeadPartition],
    merges: MergeStore,
) -> MergeRecord | None:
    """The merge of these very leads into this survivor, when it was made already (a retry)."""
    merged = [other.merged for other in others]
    if not merged or any(m is None or m.merged_into != survivor_id for m in merged):
        return None
    ids = {m.merge_id for m in merged if m is not None}
    if len(ids) != 1:
        return None
    record = merges.record(tenant_id, survivor_id, ids.pop())
    if record is None or sorted(record.merged_ids) != sorted(request.merge_ids) or record.status != "done":
        return None
    return record


def _finish_unfinished(partitions: Sequence[LeadPartition], merges: MergeStore) -> bool:
    """Finish every unfinished merge or undo these partitions show (as the survivor's records,
    or as a lead merged away by a merge still moving). Whether there was any."""
    unfinished: dict[str, MergeRecord] = {}
    for found in partitions:
        for record in found.records:
            if record.status in UNFINISHED:
                unfinished[record.merge_id] = record
        if found.merged is not None and found.merged.merge_id not in unfinished:
            merged = found.merged
            theirs = merges.record(merged.lead.tenant_id, merged.merged_into, merged.merge_id)
            if theirs is not None and theirs.status in UNFINISHED:
                unfinished[theirs.merge_id] = theirs
    for record in unfinished.values():
        if record.status == "moving":
            _complete_merge(record, merges)
        else:
            _complete_undo(record, merges)
    return bool(unfinished)


def _complete_merge(
    record: MergeRecord, merges: MergeStore, found: LeadPartition | None = None, survivor: Lead | None = None
) -> Lead | None:
    """Steps 2 and 3 of a claimed merge (``found``: the survivor's partition as read before the
    claim, ``survivor``: its lead then). Safe to run again, or at the same time as another run."""
    tenant_id = record.tenant_id
    if found is None:
        found = merges.partition(tenant_id, record.survivor_id)
        survivor = found.lead
    links = email_links(found.children)
    try:
        for origin in record.merged_ids:
            _move_children_of(record, origin, links, merges)
        for _ in range(MAX_WRITE_ATTEMPTS):
            try:
                return _finish(record, survivor, merges)
            except MergeRace:
                if not _still(record, "moving", merges):
                    break
                survivor = merges.partition(tenant_id, record.survivor_id).lead
    except MergeRace:
        pass  # another run finished it
    latest = merges.record(tenant_id, record.survivor_id, record.merge_id)
    if latest is None or latest.status == "moving":
        raise Conflict("The survivor is being changed by others. Please retry: the merge will finish.")
    return merges.partition(tenant_id, record.survivor_id).lead


def _until_moved(
    read: Callable[[], list[Any]], move: Callable[[list[Any]], None], first: list[Any] | None = None
) -> None:
    """Move the children ``read`` gives (``first``: those read already); when one changed
    meanwhile (``ChildChanged``: its batch was not written), read what is left and move that."""
    children = read() if first is None else first
    for _ in range(MAX_WRITE_ATTEMPTS):
        try:
            move(children)
            return
        except ChildChanged:
            children = read()
    raise Conflict("The lead's notes and tasks are being changed by others. Please retry.")


def _move_children_of(record: MergeRecord, origin: int, links: set[str], merges: MergeStore) -> None:
    """A merged-away lead's children, read after the claim (nothing can be added to it since),
    into the survivor. ``links``: the email links the survivor has (they stay with ``origin``);
    those ``origin`` brings are added to it, so that another merged-away lead's link to the
    same email stays with that lead rather than overwrite this one (its undo would lose it).
    A batch that was not written is read again with the survivor's links as they are now (an
    email may have been linked to the survivor meanwhile)."""
    moved: list[dict[str, Any]] = []

    def move(children: list[dict[str, Any]]) -> None:
        merges.move_children(record, origin, children, links)
        moved[:] = children

    def read_again() -> list[dict[str, Any]]:
        links.update(email_links(merges.partition(record.tenant_id, record.survivor_id).children))
        return merges.partition(record.tenant_id, origin).children

    _until_moved(read_again, move, merges.partition(record.tenant_id, origin).children)
    links |= email_links(moved)


def _still(record: MergeRecord, status: str, merges: MergeStore) -> bool:
    """Whether the record still has ``status`` (else another run took it further)."""
    latest = merges.record(record.tenant_id, record.survivor_id, record.merge_id)
    return latest is not None and latest.status == status


def _finish(record: MergeRecord, survivor: Lead | None, merges: MergeStore) -> Lead | None:
    if survivor is None:  # deleted meanwhile: the merge ends without its values
        merges.finish(record, None, None, None)
        return None
    after = next_version(survivor, survivor.model_copy(update=record.values))
    entry = change(survivor, after, record.actor, "merged", merge=_mark(record))
    merges.finish(record, survivor, after, entry)
    return after


def _result(record: MergeRecord, survivor: Lead | None) -> MergeResult:
    if survivor is None:
        raise NotFound(f"Lead {record.survivor_id}")
    return MergeResult(
        merge_id=record.merge_id,
        dry_run=False,
        status="done",
        survivor=LeadOut.of(survivor),
        merged_ids=record.merged_ids,
        chosen=record.chosen,
        moved=MovedCounts(**record.moved),
        undo_until=record.undo_until,
    )


# ------------------------------------------------------------------ undo
def undo_merge(
    principal: Principal, survivor_id: int, merge_id: str, merges: MergeStore, mail: MailStore
) -> UndoResult:
    """Undo a merge of the survivor within ``UNDO_DAYS``: its merged-away leads back (one
    transaction), their children moved back, the survivor's values back (one transaction).
    Then, as after a restore from the recycle bin, the emails captured for the address of each
    lead back (and of the survivor, when its email is back) while nothing could link them are
    linked (one Query per address)."""
    tenant_id = principal.tenant_id
    found = merges.partition(tenant_id, survivor_id)
    survivor = _live(found, survivor_id)
    record = next((r for r in found.records if r.merge_id == merge_id), None)
    if record is None:
        raise NotFound("Merge")
    if record.status == "moving":
        _complete_merge(record, merges)
        record = merges.record(tenant_id, survivor_id, merge_id) or record
        # read again what finishing it moved in: the undo moves back the children it reads
        found = merges.partition(tenant_id, survivor_id)
        survivor = _live(found, survivor_id)
    if record.status == "undone":
        raise Conflict(f"This merge was undone already, at {record.undone_at}.")
    if record.status == "done" and record.erased_at is not None:
        raise Conflict(
            f"This merge cannot be undone: an erasure on request (at {record.erased_at}) removed "
            "values or leads it would bring back."
        )
    if record.status == "done":
        now = datetime.now(UTC)
        if format_timestamp(now) > record.undo_until:
            raise Conflict(f"A merge can be undone for {UNDO_DAYS} days: this one until {record.undo_until}.")
        actor = user_actor(principal)
        restored = []
        for lead_id in record.merged_ids:
            merged = merges.merged_lead(tenant_id, lead_id)
            if merged is None or merged.merge_id != merge_id:
                raise Conflict(f"Lead {lead_id} is no longer merged by this merge.")
            lead = next_version(merged.lead, merged.lead, format_timestamp(now))
            restored.append((merged, lead, change(merged.lead, lead, actor, "unmerged", merge=_mark(record))))
        undone = {"status": "undoing", "undone_at": format_timestamp(now), "undone_by": actor}
        try:
            merges.start_undo(record, restored, {"undone_at": undone["undone_at"], "undone_by": actor})
        except MergeRace:
            raise Conflict("This merge is being undone by another request.") from None
        record = record.model_copy(update=undone)
    survivor, kept = _complete_undo(record, merges, found, survivor)
    for lead in record.merged:
        link_captured_emails(lead, mail)
    if "email" in record.values and "email" not in kept:
        link_captured_emails(survivor, mail)
    return UndoResult(
        merge_id=merge_id,
        status="undone",
        survivor=LeadOut.of(survivor),
        restored_ids=record.merged_ids,
        kept=kept,
    )


def _complete_undo(
    record: MergeRecord, merges: MergeStore, found: LeadPartition | None = None, survivor: Lead | None = None
) -> tuple[Lead, list[str]]:
    """Undo's steps 2 and 3 (safe to run again)."""
    tenant_id = record.tenant_id
    if found is None:
        found = merges.partition(tenant_id, record.survivor_id)
        survivor = found.lead
    actor: Actor = record.undone_by or record.actor
    try:
        _until_moved(
            lambda: merges.partition(tenant_id, record.survivor_id).children,
            lambda children: merges.move_back(record, children),
            found.children,
        )
        for _ in range(MAX_WRITE_ATTEMPTS):
            if survivor is None:
                merges.finish_undo(record, None, None, None, [])
                raise NotFound(f"Lead {record.survivor_id}")
            back, kept = reverted(record, survivor)
            after = next_version(survivor, back)
            entry = change(survivor, after, actor, "unmerged", merge=_mark(record))
            try:
                merges.finish_undo(record, survivor, after, entry, kept)
                return after, kept
            except MergeRace:
                if not _still(record, "undoing", merges):
                    break
                survivor = merges.partition(tenant_id, record.survivor_id).lead
    except MergeRace:
        pass  # another run finished it
    latest = merges.record(tenant_id, record.survivor_id, record.merge_id)
    current = merges.partition(tenant_id, record.survivor_id).lead
    if latest is None or latest.status != "undone" or current is None:
        raise Conflict("The survivor is being changed by others. Please retry: the undo will finish.")
    return current, latest.kept


# ------------------------------------------------------------------ list
def list_merges(principal: Principal, lead_id: int, merges: MergeStore) -> MergeList:
    """The lead's merges as the survivor, newest first (one Query: its lead and merge records)."""
    found = merges.partition(principal.tenant_id, lead_id, with_children=False)
    _live(found, lead_id)
    records = sorted(found.records, key=lambda record: record.merged_at, reverse=True)
    return MergeList(data=[MergeSummary.of(record) for record in records])
