"""What tells a bot's post from a person's, before any lead is written: the honeypot field (a
field people never see, so never fill) and the signed time token the form's page and script carry
(a post sooner than a person can fill the form, or with a token older than a day, is a bot's)."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leads_shared.models.forms import LeadForm

# Hidden from people (off-screen, aria-hidden, not focusable); bots fill every field.
HONEYPOT = "hp_extra"
TOKEN_FIELD = "_ts"
TOKEN_MAX_AGE_SECONDS = 24 * 60 * 60


def _signature(form: LeadForm, issued: int) -> str:
    message = f"{form.id}.{issued}".encode()
    return hmac.new(form.token_secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def issue_token(form: LeadForm, now: float) -> str:
    """``<unix seconds>.<signature>``: signed with the form's own secret (rotates with its key)."""
    issued = int(now)
    return f"{issued}.{_signature(form, issued)}"


def token_verdict(form: LeadForm, token: str | None, now: float, min_seconds: float) -> str | None:
    """None for a token of this form issued between ``min_seconds`` and a day ago; else why the
    post is spam."""
    if not token:
        return "no time token"
    issued_text, _, signature = token.partition(".")
    if not issued_text.isdigit() or len(issued_text) > 12:
        return "invalid time token"
    issued = int(issued_text)
    if not hmac.compare_digest(signature, _signature(form, issued)):
        return "invalid time token"
    age = now - issued
    if age < min_seconds:
        return "posted too fast"
    if age > TOKEN_MAX_AGE_SECONDS:
        return "time token expired"
    return None
