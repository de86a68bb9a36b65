"""Lead forms (admins only): create, list, read, replace (and rotate the key), delete, and what a
form received. Routes only; the rules live in the layer (``forms``). The public side of a form
(its page, script and posts) is the ``form_capture`` function."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from leads_shared import forms
from leads_shared.api import (
    BODY_ERRORS,
    admin_only,
    caller,
    cors,
    entry_point,
    responses,
    use_api_conventions,
)
from leads_shared.data import get_directory_store, get_form_store
from leads_shared.models.common import MAX_ID, SuccessBody
from leads_shared.models.forms import FormCreate, FormList, FormOut, FormUpdate, SubmissionList, SubmissionOut
from leads_shared.observability import logger, metrics, tracer

app = APIGatewayRestResolver(enable_validation=True, cors=cors())
use_api_conventions(app)

TAGS = ["Lead forms"]
FormId = Annotated[int, Path(ge=1, le=MAX_ID, description="Form id (per tenant).")]


@app.get(
    "/lead-forms",
    summary="List lead forms",
    tags=TAGS,
    description="Admin only. Every form of the tenant, by id.",
    responses=responses((200, FormList, "The forms."), 403),
    middlewares=[admin_only],
)
@tracer.capture_method
def list_forms() -> FormList:
    return FormList(data=[FormOut.of(form) for form in forms.list_forms(caller(app), get_form_store())])


@app.post(
    "/lead-forms",
    summary="Create a lead form",
    tags=TAGS,
    description="Admin only. The form gets a random public key: its page is `/f/{public_key}`, its "
    "script `/f/{public_key}/embed.js`, and it takes posts at `/f/{public_key}` (docs/forms.md).",
    responses=responses((201, FormOut, "The form."), *BODY_ERRORS, 403),
    middlewares=[admin_only],
)
@tracer.capture_method
def create_form(body: Annotated[FormCreate, Body()]) -> Response[FormOut]:
    form = forms.create_form(caller(app), body, get_form_store(), get_directory_store())
    logger.info("lead form created", extra={"form_id": form.id})
    metrics.add_metric(name="LeadFormCreated", unit="Count", value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=FormOut.of(form))


@app.get(
    "/lead-forms/<id>",
    summary="Get a lead form",
    tags=TAGS,
    description="Admin only.",
    responses=responses((200, FormOut, "The form."), 403, 404),
    middlewares=[admin_only],
)
@tracer.capture_method
def get_form(id: FormId) -> FormOut:
    return FormOut.of(forms.get_form(caller(app), id, get_form_store()))


@app.put(
    "/lead-forms/<id>",
    summary="Replace a lead form",
    tags=TAGS,
    description="Admin only. The whole form, as `POST` takes it. A changed `consent_text` is a new "
    "consent version; `rotate_key: true` gives the form a new public key (its old URLs stop working).",
    responses=responses((200, FormOut, "The form."), *BODY_ERRORS, 403, 404, 409),
    middlewares=[admin_only],
)
@tracer.capture_method
def update_form(id: FormId, body: Annotated[FormUpdate, Body()]) -> FormOut:
    form = forms.update_form(caller(app), id, body, get_form_store(), get_directory_store())
    if body.rotate_key:
        logger.info("lead form key rotated", extra={"form_id": form.id})
    return FormOut.of(form)


@app.delete(
    "/lead-forms/<id>",
    summary="Delete a lead form",
    tags=TAGS,
    description="Admin only. Its URLs stop working at once; the leads it made stay.",
    responses=responses((200, SuccessBody, "The form is deleted."), 403, 404, 409),
    middlewares=[admin_only],
)
@tracer.capture_method
def delete_form(id: FormId) -> SuccessBody:
    forms.delete_form(caller(app), id, get_form_store())
    return SuccessBody()


@app.get(
    "/lead-forms/<id>/submissions",
    summary="List a lead form's submissions",
    tags=TAGS,
    description="Admin only. The newest 100 submissions, newest first: each with its outcome "
    "(`created`, `updated`, `duplicate`, `spam` with its reason), the lead, the time and where it "
    "came from.",
    responses=responses((200, SubmissionList, "The submissions."), 403, 404),
    middlewares=[admin_only],
)
@tracer.capture_method
def list_submissions(id: FormId) -> SubmissionList:
    found = forms.list_submissions(caller(app), id, get_form_store())
    return SubmissionList(data=[SubmissionOut.of(submission) for submission in found])


lambda_handler = entry_point(app)
