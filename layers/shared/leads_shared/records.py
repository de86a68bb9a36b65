"""Reading the contacts, companies and deals of the caller's tenant (another tenant's id is
simply not found)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leads_shared.errors import NotFound
from leads_shared.models.records import CompanyOut, ContactOut, DealOut

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.record_store import RecordStore


def get_contact(principal: Principal, contact_id: int, store: RecordStore) -> ContactOut:
    contact = store.contact(principal.tenant_id, contact_id)
    if contact is None:
        raise NotFound("Contact")
    return ContactOut.model_validate(contact.model_dump())


def get_company(principal: Principal, company_id: int, store: RecordStore) -> CompanyOut:
    company = store.company(principal.tenant_id, company_id)
    if company is None:
        raise NotFound("Company")
    return CompanyOut.model_validate(company.model_dump())


def get_deal(principal: Principal, deal_id: int, store: RecordStore) -> DealOut:
    deal = store.deal(principal.tenant_id, deal_id)
    if deal is None:
        raise NotFound("Deal")
    return DealOut.model_validate(deal.model_dump())
