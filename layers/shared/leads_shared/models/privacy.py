"""Erasure on request (GDPR Art. 17): the request, and its receipt (stored and answered without
the address it was for)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StrictBool

from leads_shared.models.common import EmailText, Model, checked_email

ErasureStatus = Literal["dry_run", "in_progress", "done"]


class ErasureRequest(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "jane@roe.com", "dry_run": True}]})

    email: Annotated[EmailText, BeforeValidator(checked_email)] = Field(
        description="The address to erase (any case).", examples=["jane@roe.com"]
    )
    dry_run: StrictBool = Field(default=False, description="List what would be erased, and write nothing.")


class Requester(Model):
    id: int = Field(examples=[1])
    name: str | None = Field(default=None, examples=["Alice Admin"])


class ErasureCounts(Model):
    leads: int = Field(
        default=0, description="Live leads with the address, removed with everything of theirs."
    )
    trashed_leads: int = Field(default=0, description="Leads in the recycle bin with the address.")
    contacts: int = 0
    emails: int = Field(default=0, description="Captured emails with the address on From, To or Cc.")
    form_submissions: int = 0
    history_entries_redacted: int = Field(
        default=0, description="History entries of other leads whose values held the address."
    )
    merged_leads: int = Field(
        default=0,
        description="Merged-away leads removed: those with the address, and those merged into "
        "a lead that was erased.",
    )
    merges_redacted: int = Field(
        default=0,
        description="Merge records of other leads whose copies held the address (the merge can no "
        "longer be undone).",
    )


class FormSubmissionRef(Model):
    form_id: int
    id: str


class HistoryRedaction(Model):
    lead_id: int
    version: int = Field(description="The lead's version the redacted entry recorded.")


class MergeRedaction(Model):
    survivor_id: int
    merge_id: str


class ErasedIds(Model):
    leads: list[int] = Field(default_factory=list)
    trashed_leads: list[int] = Field(default_factory=list)
    contacts: list[int] = Field(default_factory=list)
    emails: list[int] = Field(default_factory=list)
    form_submissions: list[FormSubmissionRef] = Field(default_factory=list)
    history_entries_redacted: list[HistoryRedaction] = Field(default_factory=list)
    merged_leads: list[int] = Field(default_factory=list)
    merges_redacted: list[MergeRedaction] = Field(default_factory=list)

    def counts(self) -> ErasureCounts:
        return ErasureCounts(**{name: len(getattr(self, name)) for name in ErasureCounts.model_fields})


class ErasureReceipt(Model):
    """What an erasure removed, by whom and when: stored (``ERASURE#``) without the address."""

    tenant_id: str
    erasure_id: str | None
    status: ErasureStatus
    requested_at: str
    completed_at: str | None = None
    requested_by: Requester
    erased: ErasedIds


class ErasureReceiptOut(Model):
    erasure_id: str | None = Field(
        description="Null for a dry run (nothing is kept).", examples=["6f1c0e9a2b7d4c1e8f3a5b6c7d8e9f01"]
    )
    status: ErasureStatus = Field(
        description="`done`; `dry_run`: what would go; `in_progress`: an erasure that stopped half-way "
        "(retry it with the same `Idempotency-Key` and address to finish it)."
    )
    requested_at: str = Field(examples=["2026-01-15T09:30:00.000000Z"])
    completed_at: str | None = None
    requested_by: Requester
    counts: ErasureCounts
    erased: ErasedIds = Field(description="The ids of what was erased (for a dry run: would be).")

    @classmethod
    def of(cls, receipt: ErasureReceipt) -> ErasureReceiptOut:
        values = receipt.model_dump(exclude={"tenant_id"})
        return cls.model_validate({**values, "counts": receipt.erased.counts()})


class ErasureReceiptPage(Model):
    data: list[ErasureReceiptOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        default=None,
        description="Send it as `cursor` for the next page; null on the last page. Opaque, signed, "
        "valid for an hour.",
    )
