"""The drop-box address of a tenant, ``leads+<tenant_id>.<inbound_token>@<inbound domain>``: how
it is spelled, how the recipients of a message are read for it, and why one is refused.

The tenant id is read as written (tenant ids are case-sensitive); the token is lower-case letters
and digits and is read in any case (mail systems may change the case of a local part). A tenant
id may hold dots, a token never does: the token is what follows the last dot.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from leads_shared.auth import TENANT_ID
from leads_shared.models.tenant import INBOUND_TOKEN, TenantSettings

# Headers that may carry the drop-box address: the visible ones, and the envelope recipient
# that a Bcc only leaves in the delivery headers (SES writes it in ``Received: ... for <...>``).
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "X-Forwarded-To", "Received")
# Why mail to a drop-box address is refused (recorded with the rejected message).
NO_ADDRESS = "The tenant has no drop-box address (an unknown tenant, or its settings were never made)."
ROTATED = "The drop-box address is no longer valid (rotated)."
NO_TOKEN = "The drop-box address has no token (leads+<tenant>@ is no longer accepted)."
WRONG_TOKEN = "The drop-box address is not valid (wrong token)."


@dataclass(frozen=True)
class Recipient:
    """A drop-box address found among a message's recipients. ``token`` is None for the old
    address without one (``leads+<tenant_id>@``), which is refused."""

    tenant_id: str
    token: str | None


@dataclass(frozen=True)
class Refusal:
    """Why mail to a tenant's drop-box addresses is refused. ``was_valid``: the address did link
    mail once (a rotated token, the old form), so a redelivery of a message the tenant already
    stored from it is finished rather than refused."""

    reason: str
    was_valid: bool = False


def address(tenant_id: str, token: str, inbound_domain: str) -> str:
    return f"leads+{tenant_id}.{token}@{inbound_domain.strip()}"


def expected_form(inbound_domain: str) -> str:
    """How the address looks, for messages: ``leads+<tenant>.<token>@<domain>``."""
    return f"leads+<tenant>.<token>@{inbound_domain.strip()}"


def _pattern(inbound_domain: str) -> re.Pattern[str]:
    """``leads+<local>@<inbound domain>``, not inside a longer address (``myleads+...``, a
    look-alike domain ``<domain>.evil.com``)."""
    return re.compile(
        rf"(?<![A-Za-z0-9_.+-])leads\+([A-Za-z0-9_.-]{{1,129}})@{re.escape(inbound_domain.strip())}"
        r"(?![A-Za-z0-9.-])",
        re.IGNORECASE,
    )


def _recipient(local: str) -> Recipient | None:
    tenant_id, dot, token = local.rpartition(".")
    if dot and INBOUND_TOKEN.fullmatch(token.lower()) and TENANT_ID.fullmatch(tenant_id):
        return Recipient(tenant_id, token.lower())
    if TENANT_ID.fullmatch(local):
        return Recipient(local, None)
    return None


def recipients(raw: bytes, inbound_domain: str) -> list[Recipient]:
    """The drop-box addresses among the message's recipients, in order of appearance, once each."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    pattern = _pattern(inbound_domain)
    found: dict[Recipient, None] = {}
    for name in RECIPIENT_HEADERS:
        for value in headers.get_all(name, []):
            for local in pattern.findall(str(value)):
                recipient = _recipient(local)
                if recipient is not None:
                    found.setdefault(recipient, None)
    return list(found)


def by_tenant(found: Iterable[Recipient]) -> dict[str, list[str | None]]:
    """The tokens each tenant's addresses carry, tenants in order of appearance."""
    tokens: dict[str, list[str | None]] = {}
    for recipient in found:
        tokens.setdefault(recipient.tenant_id, []).append(recipient.token)
    return tokens


def refusal(settings: TenantSettings | None, tokens: Iterable[str | None]) -> Refusal | None:
    """None when one of ``tokens`` (of one tenant's addresses) is the tenant's current token;
    else why the mail is refused. A tenant's token is only ever compared with its own settings,
    so it never opens another tenant's drop-box."""
    given = list(tokens)
    if settings is None:
        return Refusal(NO_TOKEN, was_valid=True) if None in given else Refusal(NO_ADDRESS)
    if any(token is not None and secrets.compare_digest(token, settings.inbound_token) for token in given):
        return None
    if any(token in settings.retired_inbound_tokens for token in given):
        return Refusal(ROTATED, was_valid=True)
    if None in given:
        return Refusal(NO_TOKEN, was_valid=True)
    return Refusal(WRONG_TOKEN)
