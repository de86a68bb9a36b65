"""Qualify and disqualify a lead, for one caller's tenant.

Qualifying writes the lead (``qualified``, with the ids it converted into), its counters, and the
new contact, company and deal in one DynamoDB transaction on condition that the lead did not
change since it was read: either all of it is written or none, and of any number of concurrent
calls exactly one converts the lead (the others find it qualified: 409).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from leads_shared.clock import utc_now
from leads_shared.data.idempotency import run_once
from leads_shared.data.lead_store import IdTaken, LeadStore, VersionConflict
from leads_shared.directory import stages_of
from leads_shared.errors import Conflict, ValidationFailed
from leads_shared.lead_history import change, user_actor
from leads_shared.leads import current_or_404
from leads_shared.models.records import (
    Company,
    Contact,
    Deal,
    DisqualifyRequest,
    QualifyRequest,
    QualifyResult,
)
from leads_shared.observability import metrics
from leads_shared.versioning import confirmed_write, next_version, without_lost_updates

if TYPE_CHECKING:
    from leads_shared.auth import Principal
    from leads_shared.data.directory_store import DirectoryStore
    from leads_shared.data.record_store import RecordStore
    from leads_shared.models.directory import DealStage
    from leads_shared.models.leads import Lead


@dataclass(frozen=True)
class _Plan:
    lead: Lead
    contact: Contact | None
    company: Company | None
    deal: Deal | None
    result: QualifyResult


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed({field: [message]})


def _stage(wanted: int | None, stages: list[DealStage]) -> DealStage:
    if not stages:
        raise _invalid("deal_stage_id", "The tenant has no deal stages to put a deal in.")
    if wanted is None:  # the pipeline's first open stage
        return next((stage for stage in stages if stage.kind == "open"), stages[0])
    for stage in stages:
        if stage.id == wanted:
            return stage
    raise ValidationFailed.selected("deal_stage_id")


def _check_request(data: QualifyRequest, lead: Lead) -> None:
    if data.create_company and data.company_id is not None:
        raise _invalid("company_id", "Give either company_id or create_company, not both.")
    if data.create_company and not lead.company:
        raise _invalid("create_company", "The lead has no company name to create a company from.")


def _plan(
    principal: Principal,
    lead: Lead,
    data: QualifyRequest,
    records: RecordStore,
    directory: DirectoryStore,
) -> _Plan:
    """What qualifying ``lead`` writes: checks the linked records and the stage, takes new ids."""
    tenant = principal.tenant_id
    linked_company = records.company(tenant, data.company_id) if data.company_id is not None else None
    if data.company_id is not None and linked_company is None:
        raise ValidationFailed.selected("company_id")
    linked_contact = records.contact(tenant, data.contact_id) if data.contact_id is not None else None
    if data.contact_id is not None and linked_contact is None:
        raise ValidationFailed.selected("contact_id")
    stage = _stage(data.deal_stage_id, stages_of(tenant, directory)) if data.create_deal else None

    kinds = [
        kind
        for kind, wanted in (
            ("contact", linked_contact is None),
            ("company", data.create_company),
            ("deal", data.create_deal),
        )
        if wanted
    ]
    ids = records.reserve(tenant, kinds) if kinds else {}
    now = utc_now()
    owner = {"owner_id": lead.assigned_to, "owner_name": lead.assigned_to_name}
    company = None
    if "company" in ids:
        company = Company(
            tenant_id=tenant, id=ids["company"], name=lead.company or "", lead_id=lead.id,
            created_at=now, updated_at=now, **owner,
        )  # fmt: skip
    company_id = company.id if company else (linked_company.id if linked_company else None)
    contact = None
    if "contact" in ids:
        contact = Contact(
            tenant_id=tenant, id=ids["contact"], first_name=lead.first_name, last_name=lead.last_name,
            email=lead.email, phone=lead.phone, job_title=lead.job_title, company_id=company_id,
            lead_id=lead.id, created_at=now, updated_at=now, **owner,
        )  # fmt: skip
    contact_id = contact.id if contact else linked_contact.id if linked_contact else 0
    deal = None
    if "deal" in ids and stage is not None:
        default_name = f"{lead.company or f'{lead.first_name} {lead.last_name}'} deal"
        deal = Deal(
            tenant_id=tenant, id=ids["deal"], name=data.deal_name or default_name[:255],
            value=data.deal_value, stage_id=stage.id, stage_name=stage.name, contact_id=contact_id,
            company_id=company_id, lead_id=lead.id, created_at=now, updated_at=now, **owner,
        )  # fmt: skip
    converted = next_version(
        lead,
        lead.model_copy(
            update={
                "status": "qualified",
                "contact_id": contact_id,
                "company_id": company_id,
                "deal_id": deal.id if deal else None,
                "qualified_at": now,
            }
        ),
        now,
    )
    result = QualifyResult(contact_id=contact_id, company_id=company_id, deal_id=converted.deal_id)
    return _Plan(converted, contact, company, deal, result)


def qualify_lead(
    principal: Principal,
    lead_id: int,
    data: QualifyRequest,
    leads: LeadStore,
    records: RecordStore,
    directory: DirectoryStore,
) -> QualifyResult:
    """Read the lead, take the new records' ids (one request), then one transaction. A lead
    that is already qualified or disqualified is a 409."""

    def attempt() -> QualifyResult:
        lead = current_or_404(leads.get(principal.tenant_id, lead_id), None)
        if lead.is_closed:
            raise Conflict(f"The lead is already {lead.status}.")
        _check_request(data, lead)
        plan = _plan(principal, lead, data, records, directory)
        try:
            confirmed_write(
                lambda: leads.convert(
                    lead,
                    plan.lead,
                    change(lead, plan.lead, user_actor(principal), "qualified"),
                    contact=plan.contact,
                    company=plan.company,
                    deal=plan.deal,
                ),
                plan.lead,
                lambda: leads.get(principal.tenant_id, lead_id),
            )
        except IdTaken:
            raise VersionConflict() from None  # take new ids on the next attempt
        return plan.result

    return without_lost_updates(attempt, None)


def qualify_once(
    principal: Principal,
    lead_id: int,
    data: QualifyRequest,
    key: str | None,
    leads: LeadStore,
    records: RecordStore,
    directory: DirectoryStore,
    lambda_context: Any = None,
) -> QualifyResult:
    """``qualify_lead`` at most once per ``Idempotency-Key`` (``key``): a retry with the same key
    and body answers what the first call did, without converting again (``data.idempotency``).
    Without a key, every call qualifies (a retry after a lost answer finds the lead qualified)."""

    def qualify_it() -> dict[str, Any]:
        result = qualify_lead(principal, lead_id, data, leads, records, directory)
        metrics.add_metric(name="LeadQualified", unit=MetricUnit.Count, value=1)
        return result.model_dump()

    if key is None:
        return QualifyResult.model_validate(qualify_it())
    scope = {"operation": "qualify", "lead_id": lead_id, "key": key}
    answer = run_once(principal.tenant_id, scope, data.model_dump(), qualify_it, lambda_context)
    return QualifyResult.model_validate(answer)


def disqualify_lead(principal: Principal, lead_id: int, data: DisqualifyRequest, store: LeadStore) -> Lead:
    """Mark a lead disqualified with the reason and time. A qualified lead is a 409; disqualifying
    a disqualified lead again replaces its reason (and keeps its first time)."""

    def attempt() -> Lead:
        lead = current_or_404(store.get(principal.tenant_id, lead_id), None)
        if lead.status == "qualified":
            raise Conflict("A qualified lead cannot be disqualified.")
        now = utc_now()
        updated = lead.model_copy(
            update={
                "status": "disqualified",
                "disqualified_reason": data.reason or None,
                "disqualified_at": lead.disqualified_at if lead.status == "disqualified" else now,
            }
        )
        if updated == lead:
            return lead
        updated = next_version(lead, updated, now)
        recorded = change(lead, updated, user_actor(principal), "disqualified")
        return confirmed_write(
            lambda: store.replace(lead, updated, recorded),
            updated,
            lambda: store.get(principal.tenant_id, lead_id),
        )

    return without_lost_updates(attempt, None)
