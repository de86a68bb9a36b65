"""Notes of a lead: add, list and delete. Routes only; the rules live in the layer."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body

from leads_shared import notes
from leads_shared.api import (
    BODY_ERRORS,
    LeadId,
    NoteId,
    caller,
    cors,
    entry_point,
    responses,
    use_api_conventions,
)
from leads_shared.data import get_activity_store, get_directory_store, get_lead_store, get_record_store
from leads_shared.models.activities import NoteCreate, NoteList, NoteOut
from leads_shared.models.common import SuccessBody
from leads_shared.observability import metrics, tracer

app = APIGatewayRestResolver(enable_validation=True, cors=cors())
use_api_conventions(app)

TAGS = ["Notes"]


@app.get(
    "/leads/<id>/notes",
    summary="List lead notes",
    tags=TAGS,
    responses=responses((200, NoteList, "The lead's notes, newest first."), 404),
)
@tracer.capture_method
def list_notes(id: LeadId) -> NoteList:
    found = notes.list_notes(caller(app), id, get_lead_store())
    return NoteList(data=[NoteOut.of(note) for note in found])


@app.post(
    "/leads/<id>/notes",
    summary="Add note to lead",
    tags=TAGS,
    responses=responses((201, NoteOut, "The note."), *BODY_ERRORS, 404),
)
@tracer.capture_method
def add_note(id: LeadId, body: Annotated[NoteCreate, Body()]) -> Response[NoteOut]:
    note = notes.add_note(
        caller(app), id, body, get_activity_store(), get_record_store(), get_directory_store()
    )
    metrics.add_metric(name="NoteAdded", unit="Count", value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=NoteOut.of(note))


@app.delete(
    "/leads/<id>/notes/<noteId>",
    summary="Delete lead note",
    tags=TAGS,
    description="Only the note's author or an admin may delete it.",
    responses=responses((200, SuccessBody, "The note is deleted."), 403, 404),
)
@tracer.capture_method
def delete_note(id: LeadId, noteId: NoteId) -> SuccessBody:
    notes.delete_note(caller(app), id, noteId, get_activity_store())
    return SuccessBody()


lambda_handler = entry_point(app)
