"""What qualifying a lead creates (contacts, companies, deals), the qualify and disqualify
bodies, and the match answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import ConfigDict, Field, StrictBool, StringConstraints

from leads_shared.models.common import Model, OptionalText255, RecordId

if TYPE_CHECKING:
    from pydantic.config import JsonDict

DealValue = Annotated[float, Field(ge=0, le=1e15, description="Zero or more.")]


# `company_id` links a company, `create_company` makes one: not both (a 422), as the document says.
NOT_BOTH_COMPANIES: JsonDict = {
    "not": {
        "required": ["create_company", "company_id"],
        "properties": {"create_company": {"const": True}, "company_id": {"type": "integer"}},
    }
}


class QualifyRequest(Model):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            **NOT_BOTH_COMPANIES,
            "examples": [{"create_company": True, "create_deal": True, "deal_value": 25000}],
        },
    )

    create_company: StrictBool = Field(
        default=False, description="Also create a company named from the lead's company."
    )
    create_deal: StrictBool = Field(default=False, description="Also create a deal.")
    deal_name: OptionalText255 = Field(default=None, description='Default: "<company or name> deal".')
    deal_value: DealValue | None = None
    deal_stage_id: RecordId = Field(
        default=None, description="A deal stage of the tenant; default the first."
    )
    company_id: RecordId = Field(
        default=None, description="Link an existing company of the tenant instead of creating one."
    )
    contact_id: RecordId = Field(
        default=None, description="Link an existing contact of the tenant instead of creating one."
    )


class QualifyResult(Model):
    success: bool = True
    contact_id: int
    company_id: int | None
    deal_id: int | None


class DisqualifyRequest(Model):
    model_config = ConfigDict(
        extra="ignore", json_schema_extra={"examples": [{"reason": "No budget this year."}]}
    )

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = Field(
        default=None, description="Why (up to 1,000 characters)."
    )


class Contact(Model):
    tenant_id: str
    id: int
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    job_title: str | None = None
    company_id: int | None = None
    owner_id: int | None = None
    owner_name: str | None = None
    lead_id: int | None = None
    created_at: str
    updated_at: str


class Company(Model):
    tenant_id: str
    id: int
    name: str
    owner_id: int | None = None
    owner_name: str | None = None
    lead_id: int | None = None
    created_at: str
    updated_at: str


class Deal(Model):
    tenant_id: str
    id: int
    name: str
    value: float | None = None
    stage_id: int
    stage_name: str
    contact_id: int | None = None
    company_id: int | None = None
    owner_id: int | None = None
    owner_name: str | None = None
    lead_id: int | None = None
    created_at: str
    updated_at: str


class ContactOut(Model):
    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    job_title: str | None
    company_id: int | None
    owner_id: int | None
    owner_name: str | None
    lead_id: int | None
    created_at: str
    updated_at: str


class CompanyOut(Model):
    id: int
    name: str
    owner_id: int | None
    owner_name: str | None
    lead_id: int | None
    created_at: str
    updated_at: str


class DealOut(Model):
    id: int
    name: str
    value: float | None
    stage_id: int
    stage_name: str
    contact_id: int | None
    company_id: int | None
    owner_id: int | None
    owner_name: str | None
    lead_id: int | None
    created_at: str
    updated_at: str


class CompanyMatch(CompanyOut):
    match: Literal["exact", "prefix"] = Field(
        description="exact: same name once case, punctuation and legal suffixes are ignored."
    )


class CompanyMatches(Model):
    data: list[CompanyMatch]


class ContactMatch(Model):
    type: Literal["contact", "lead"]
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str | None
    job_title: str | None
    company: str | None = Field(description="The lead's company text (leads only).")
    company_id: int | None
    status: str | None = Field(description="The lead's status (leads only).")


class ContactMatches(Model):
    data: list[ContactMatch]
