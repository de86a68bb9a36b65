"""Contacts, companies and deals that qualifying created, read-only (so a client can follow the
ids qualify returns; a full contacts/companies/deals API is not part of this module)."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from leads_shared import records
from leads_shared.api import RecordPathId, caller, cors, entry_point, responses, use_api_conventions
from leads_shared.data import get_record_store
from leads_shared.models.records import CompanyOut, ContactOut, DealOut
from leads_shared.observability import tracer

app = APIGatewayRestResolver(enable_validation=True, cors=cors())
use_api_conventions(app)


@app.get(
    "/contacts/<id>",
    summary="Get contact",
    tags=["Contacts"],
    responses=responses((200, ContactOut, "The contact."), 404),
)
@tracer.capture_method
def get_contact(id: RecordPathId) -> ContactOut:
    return records.get_contact(caller(app), id, get_record_store())


@app.get(
    "/companies/<id>",
    summary="Get company",
    tags=["Companies"],
    responses=responses((200, CompanyOut, "The company."), 404),
)
@tracer.capture_method
def get_company(id: RecordPathId) -> CompanyOut:
    return records.get_company(caller(app), id, get_record_store())


@app.get(
    "/deals/<id>", summary="Get deal", tags=["Deals"], responses=responses((200, DealOut, "The deal."), 404)
)
@tracer.capture_method
def get_deal(id: RecordPathId) -> DealOut:
    return records.get_deal(caller(app), id, get_record_store())


lambda_handler = entry_point(app)
