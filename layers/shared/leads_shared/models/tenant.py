"""A tenant's settings: the stored item, the ``PUT /tenant`` body, and the answer of the routes."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from leads_shared.models.common import Model, RequiredName

# The drop-box token: lower-case letters and digits only, so that it survives mail systems that
# lower-case local parts. 20 characters of 36 are 103 bits: not guessable by sending mail.
INBOUND_TOKEN_LENGTH = 20
INBOUND_TOKEN = re.compile(r"[a-z0-9]{16,64}")
# Tokens rotated away that capture still recognises, to record "rotated" rather than "unknown"
# as the reason it rejects mail sent to them (never accepted again).
RETIRED_TOKENS_KEPT = 10
DEFAULT_CURRENCY = "USD"
_CURRENCY = re.compile(r"[A-Z]{3}")


def _currency_code(value: Any) -> Any:
    """Any case, trimmed; three letters (an ISO 4217 code such as USD or EUR)."""
    if not isinstance(value, str):
        return value
    code = value.strip().upper()
    if not _CURRENCY.fullmatch(code):
        raise PydanticCustomError(
            "own_message", "The currency field must be a 3-letter ISO 4217 code, such as USD."
        )
    return code


CurrencyCode = Annotated[
    str,
    BeforeValidator(_currency_code),
    Field(
        description="ISO 4217 code, any case (stored in upper case).",
        examples=["EUR"],
        json_schema_extra={"pattern": r"^\s*[A-Za-z]{3}\s*$"},
    ),
]


class TenantSettings(Model):
    """The stored settings of a tenant (what the data layer keeps, without keys)."""

    tenant_id: str
    # Display name of the organisation (the tenant id until an admin names it).
    name: str
    # Currency of the amounts the CRM shows (deal values are plain numbers): for clients to
    # display them; the API stores and answers numbers whatever it says.
    currency: str = DEFAULT_CURRENCY
    # The secret part of the drop-box address; only the current one is accepted.
    inbound_token: str
    # Earlier tokens, newest first (at most RETIRED_TOKENS_KEPT): rejected as "rotated".
    retired_inbound_tokens: list[str] = Field(default_factory=list)
    created_at: str
    updated_at: str
    version: int = 1

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class TenantUpdate(Model):
    """``PUT /tenant``: every field is optional; one left out keeps its value (``null`` is not a
    value). Anything else in the body (``id``, ``inbound_address``, ...) is ignored."""

    model_config = ConfigDict(
        extra="ignore", json_schema_extra={"examples": [{"name": "Acme Europe", "currency": "EUR"}]}
    )

    # Typed without `| None` (a null is refused, with one message); the default marks "not sent"
    # and is never validated.
    name: RequiredName = Field(  # type: ignore[assignment]
        default=None, description="Display name of the organisation (1-255 characters)."
    )
    currency: CurrencyCode = None  # type: ignore[assignment]

    @field_validator("name", "currency", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Only runs when the client sent the field.
        if value is None:
            raise PydanticCustomError("missing", "Input should not be null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, with their validated values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class InboundAddressRotation(Model):
    """``POST /tenant/inbound-address`` takes no fields; a body, when sent, is a JSON object
    (anything in it is ignored)."""

    model_config = ConfigDict(extra="ignore")


class TenantOut(Model):
    """The caller's tenant, as ``GET /tenant`` answers it (ETag: its version)."""

    id: str = Field(description="The tenant id (the token's `tenant_id`).", examples=["acme"])
    name: str = Field(examples=["Acme Inc."])
    currency: str = Field(description="ISO 4217 code.", examples=["USD"])
    inbound_address: str | None = Field(
        description="The drop-box address: mail sent, copied or BCC'd to it is linked to the leads "
        "on its From, To and Cc lines. `null` where the deployment has no inbound domain.",
        examples=["leads+acme.k3v9q2m8x7w4t6p1r5z0@inbound.example.com"],
    )
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, settings: TenantSettings, inbound_address: str | None) -> TenantOut:
        return cls(
            id=settings.tenant_id,
            name=settings.name,
            currency=settings.currency,
            inbound_address=inbound_address,
            created_at=settings.created_at,
            updated_at=settings.updated_at,
        )


class ScimTokenOut(Model):
    """The answer of POST /tenant/scim-token (here, not with the SCIM resources: the tenant function
    needs none of scim2-models)."""

    token: str = Field(
        description="The tenant's SCIM token: shown only now (only its hash is kept). The previous "
        "token stops working.",
        examples=["scim_5Pq2Yv0..."],
    )
    created_at: str
