"""Emails linked to a lead: list, read one, log one by hand, unlink. Routes only; the rules live
in the layer (``leads_shared.linked_emails``)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body

from leads_shared import linked_emails
from leads_shared.api import (
    BODY_ERRORS,
    EmailId,
    LeadId,
    caller,
    cors,
    entry_point,
    responses,
    use_api_conventions,
)
from leads_shared.data import get_lead_store, get_mail_store, get_record_store
from leads_shared.models.common import SuccessBody
from leads_shared.models.emails import LinkedEmailCreate, LinkedEmailDetail, LinkedEmailList, LinkedEmailOut
from leads_shared.observability import metrics, tracer

app = APIGatewayRestResolver(enable_validation=True, cors=cors())
use_api_conventions(app)

TAGS = ["Emails"]


@app.get(
    "/leads/<id>/linked-emails",
    summary="Get lead emails",
    tags=TAGS,
    description="Emails linked to the lead (captured by the drop-box address or logged), newest first.",
    responses=responses((200, LinkedEmailList, "The lead's emails, newest first."), 404),
)
@tracer.capture_method
def list_linked_emails(id: LeadId) -> LinkedEmailList:
    found = linked_emails.list_linked(caller(app), id, get_mail_store())
    return LinkedEmailList(data=[LinkedEmailOut.of(link) for link in found])


@app.get(
    "/leads/<id>/linked-emails/<emailId>",
    summary="Get one lead email",
    tags=TAGS,
    responses=responses((200, LinkedEmailDetail, "The whole email: text body and attachment list."), 404),
)
@tracer.capture_method
def get_linked_email(id: LeadId, emailId: EmailId) -> LinkedEmailDetail:
    link, email = linked_emails.get_linked(caller(app), id, emailId, get_mail_store())
    return LinkedEmailDetail.of_email(link, email)


@app.post(
    "/leads/<id>/linked-emails",
    summary="Log an email on a lead",
    tags=TAGS,
    responses=responses((201, LinkedEmailDetail, "The logged email."), *BODY_ERRORS, 404),
)
@tracer.capture_method
def log_email(id: LeadId, body: Annotated[LinkedEmailCreate, Body()]) -> Response[LinkedEmailDetail]:
    link, email = linked_emails.log_email(
        caller(app), id, body, get_lead_store(), get_mail_store(), get_record_store()
    )
    metrics.add_metric(name="EmailLogged", unit="Count", value=1)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=LinkedEmailDetail.of_email(link, email),
    )


@app.delete(
    "/leads/<id>/linked-emails/<emailId>",
    summary="Unlink an email from a lead",
    tags=TAGS,
    description="A captured email stays stored for its other leads; a logged one is deleted.",
    responses=responses((200, SuccessBody, "The email is no longer linked to the lead."), 404),
)
@tracer.capture_method
def unlink_email(id: LeadId, emailId: EmailId) -> SuccessBody:
    linked_emails.unlink(caller(app), id, emailId, get_mail_store())
    return SuccessBody()


lambda_handler = entry_point(app)
