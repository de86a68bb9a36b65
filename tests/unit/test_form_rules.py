"""The rules of a public form post that need no table: the time token, reading a post's body
within its limits, and the attribution a post carries."""

from __future__ import annotations

import base64
import json

import pytest

from leads_shared.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from leads_shared.form_capture import attribution_of, fingerprints
from leads_shared.form_posts import MAX_SUBMISSION_BYTES, Visit, read_post
from leads_shared.form_spam import issue_token, token_verdict
from leads_shared.models.forms import FormField, LeadForm

NOW = 1_800_000_000.0


def a_form(**changes: object) -> LeadForm:
    values: dict[str, object] = {
        "tenant_id": "acme",
        "id": 7,
        "name": "Contact",
        "fields": [
            FormField(name="first_name", label="First name", required=True),
            FormField(name="last_name", label="Last name", required=True),
            FormField(name="email", label="Email", type="email"),
        ],
        "public_key": "k" * 24,
        "token_secret": "s" * 64,
        "created_at": "2026-01-01T00:00:00.000000Z",
        "updated_at": "2026-01-01T00:00:00.000000Z",
    }
    values.update(changes)
    return LeadForm.model_validate(values)


@pytest.mark.parametrize(
    ("age", "verdict"),
    [(5, None), (2, None), (0.5, "posted too fast"), (86_401, "time token expired")],
)
def test_a_time_token_is_good_between_two_seconds_and_a_day(age, verdict):
    form = a_form()
    assert token_verdict(form, issue_token(form, NOW - age), NOW, 2.0) == verdict


def test_a_token_of_another_form_or_secret_or_forged_is_invalid():
    form = a_form()
    token = issue_token(form, NOW - 10)
    assert token_verdict(a_form(id=8), token, NOW, 2.0) == "invalid time token"
    assert token_verdict(a_form(token_secret="t" * 64), token, NOW, 2.0) == "invalid time token"
    issued, _, signature = token.partition(".")
    assert token_verdict(form, f"{int(issued) - 100}.{signature}", NOW, 2.0) == "invalid time token"
    for junk in ("", "abc", "1.2.3", "9" * 40 + ".x"):
        assert token_verdict(form, junk, NOW, 2.0) in ("no time token", "invalid time token")


def test_posts_are_read_as_text_values():
    post = read_post(json.dumps({"first_name": "Ada", "consent": True, "age": 3}), False, "application/json")
    assert post.values == {"first_name": "Ada", "consent": "true", "age": "3"} and not post.browser
    form = read_post("first_name=Ada&first_name=Bob&x=", False, "application/x-www-form-urlencoded")
    assert form.values == {"first_name": "Ada", "x": ""} and form.browser
    body = b'--b\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nAd\xc3\xa1\r\n--b--\r\n'
    multipart = read_post(base64.b64encode(body).decode(), True, "multipart/form-data; boundary=b")
    assert multipart.values == {"first_name": "Adá"} and multipart.browser


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        ("x" * (MAX_SUBMISSION_BYTES + 1), "application/json", PayloadTooLarge),
        ("{", "application/json", BadRequest),
        ("[1]", "application/json", ValidationFailed),
        (json.dumps({"a": {"b": 1}}), "application/json", ValidationFailed),
        (json.dumps({"a": "x" * 5000}), "application/json", ValidationFailed),
        (json.dumps({"x" * 101: "a"}), "application/json", BadRequest),
        ("&".join(f"f{i}=1" for i in range(101)), "application/x-www-form-urlencoded", BadRequest),
        ("hello", "text/plain", UnsupportedMediaType),
        ("x", "multipart/form-data", BadRequest),
    ],
)
def test_hostile_bodies_are_clear_client_errors(body, content_type, error):
    with pytest.raises(error):
        read_post(body, False, content_type)


def test_attribution_reads_utm_tags_from_the_page_and_never_trusts_a_header_for_the_ip():
    visit = Visit(ip="203.0.113.9", user_agent="UA", referer="https://www.example.com/a?utm_medium=cpc")
    found = attribution_of(a_form(), {"utm_source": "mail"}, visit, "s1")
    assert (found.page_url, found.utm_source, found.utm_medium) == (visit.referer, "mail", "cpc")
    assert found.ip == "203.0.113.9"


def test_the_same_values_are_one_submission_whatever_the_emails_case():
    form = a_form()
    one = fingerprints(form, {"first_name": "Ada", "email": "ADA@x.io"}, None)
    assert one == fingerprints(form, {"email": "ada@x.io", "first_name": "Ada"}, None)
    assert len(fingerprints(form, {"first_name": "Ada"}, "abc12345")) == 2
