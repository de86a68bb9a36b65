"""CAPTCHA verification (Cloudflare Turnstile, hCaptcha, Google reCAPTCHA): one POST of the
visitor's answer and the secret to the provider's verification URL.

The URL is the provider's, or the deployment's ``captcha_verify_url`` (a test's stand-in): never
anything a form or a visitor says, so a post cannot make the function call elsewhere (SSRF).
Only https is called, or http to the loopback address; redirects are not followed, the answer is
read up to 64 KB, and the call gives up after ``captcha_timeout_seconds`` (a failure: not human).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from leads_shared.observability import logger

if TYPE_CHECKING:
    from leads_shared.config import Settings

VERIFY_URLS = {
    "turnstile": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    "hcaptcha": "https://api.hcaptcha.com/siteverify",
    "recaptcha": "https://www.google.com/recaptcha/api/siteverify",
}
# The field each provider's widget adds to the form; JSON posts may send `captcha_token`.
RESPONSE_FIELDS = {
    "turnstile": "cf-turnstile-response",
    "hcaptcha": "h-captcha-response",
    "recaptcha": "g-recaptcha-response",
}
GENERIC_FIELD = "captcha_token"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_ANSWER_BYTES = 64 * 1024


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def verify_url(provider: str, settings: Settings) -> str:
    url = settings.captcha_verify_url or VERIFY_URLS[provider]
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        raise ValueError("captcha_verify_url must be https (or http on the loopback address)")
    return url


def answer_of(provider: str, values: dict[str, str]) -> str | None:
    return values.get(RESPONSE_FIELDS[provider]) or values.get(GENERIC_FIELD) or None


def verified(provider: str, secret: str, answer: str, ip: str | None, settings: Settings) -> bool:
    """Whether the provider says the answer is a person's (False on any failure to ask)."""
    fields = {"secret": secret, "response": answer[:4096]}
    if ip:
        fields["remoteip"] = ip
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked in verify_url
        verify_url(provider, settings),
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with _opener.open(request, timeout=settings.captcha_timeout_seconds) as response:
            body = json.loads(response.read(MAX_ANSWER_BYTES))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        logger.warning(
            "captcha verification failed", extra={"provider": provider, "error": type(exc).__name__}
        )
        return False
    return isinstance(body, dict) and body.get("success") is True
