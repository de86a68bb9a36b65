"""Notes of a lead: add, list and delete, for one caller's tenant."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leads_shared.clock import utc_now
from leads_shared.data.activity_store import ActivityStore, ChildConflict, LeadGone
from leads_shared.errors import Forbidden, NotFound
from leads_shared.models.activities import Note, NoteCreate

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.directory_store import DirectoryStore
    from leads_shared.data.lead_store import LeadStore
    from leads_shared.data.record_store import RecordStore


def add_note(
    principal: Principal,
    lead_id: int,
    data: NoteCreate,
    activities: ActivityStore,
    records: RecordStore,
    directory: DirectoryStore,
) -> Note:
    """Two requests: take a note id, then write the note on condition that the lead exists (a
    third, to read the author's name, only when the token carries none)."""
    name = principal.name
    if name is None:
        user = directory.user(principal.tenant_id, principal.user_id)
        name = user.name if user else None
    now = utc_now()
    note = Note(
        tenant_id=principal.tenant_id,
        id=records.reserve(principal.tenant_id, ["note"])["note"],
        lead_id=lead_id,
        content=data.content,
        user_id=principal.user_id,
        user_name=name,
        created_at=now,
        updated_at=now,
    )
    try:
        activities.add_note(note)
    except LeadGone:
        raise NotFound("Lead") from None
    return note


def list_notes(principal: Principal, lead_id: int, leads: LeadStore) -> list[Note]:
    """The lead's notes, newest first (one Query, with the lead: 404 when it does not exist)."""
    lead, notes = leads.get_with_notes(principal.tenant_id, lead_id)
    if lead is None:
        raise NotFound("Lead")
    return notes


def delete_note(principal: Principal, lead_id: int, note_id: int, activities: ActivityStore) -> None:
    """Only the note's author or an admin may delete it (403). Two requests: read, then delete
    on condition that the note is still there."""
    note = activities.note(principal.tenant_id, lead_id, note_id)
    if note is None:
        raise NotFound("Note")
    if note.user_id != principal.user_id and not principal.is_admin:
        raise Forbidden()
    try:
        activities.remove_note(principal.tenant_id, lead_id, note_id)
    except ChildConflict:
        raise NotFound("Note") from None
