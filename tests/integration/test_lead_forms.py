"""Lead forms through the local API Gateway: the admins' routes, and the public side a website's
visitors (and bots) use: JSON and browser posts, attribution and consent on the lead, exactly
once, the honeypot, the time token, rate limits, CORS, duplicates, CAPTCHA, hostile bodies."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from werkzeug.test import Client, TestResponse

from leads_shared.config import get_settings
from leads_shared.data import get_form_store
from leads_shared.form_spam import issue_token
from tests.support.clients import Caller

ORIGIN = "https://www.example.com"
VISITOR_IP = "203.0.113.7"


def form_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Contact us",
        "fields": [
            {"name": "first_name", "label": "First name", "required": True},
            {"name": "last_name", "label": "Last name", "required": True},
            {"name": "email", "label": "Email", "type": "email", "required": True},
            {"name": "company", "label": "Company"},
            {"name": "phone", "label": "Phone", "type": "phone"},
            {"name": "job_title", "label": "Role", "type": "select", "options": ["CTO", "CEO"]},
            {"name": "consent", "label": "I agree", "type": "checkbox", "required": True},
        ],
        "source": "Website",
        "owner_id": 2,
        "allowed_origins": [ORIGIN],
        "consent_text": "We may contact you about our products.",
    }
    body.update(changes)
    return body


def make_form(admin: Caller, **changes: Any) -> dict[str, Any]:
    response = admin.post("/lead-forms", form_body(**changes))
    assert response.status_code == 201, response.json
    return dict(response.json)


def token(admin: Caller, form: dict[str, Any], age: float = 5.0) -> str:
    """A time token of the form, issued ``age`` seconds ago (what its page would have carried)."""
    stored = get_form_store().form(admin.tenant_id, form["id"])
    assert stored is not None
    return issue_token(stored, time.time() - age)


def visitor_post(
    gateway: Client,
    key: str,
    data: str | bytes,
    content_type: str,
    ip: str = VISITOR_IP,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    return gateway.open(
        f"/f/{key}",
        method="POST",
        data=data,
        headers={"Content-Type": content_type, "User-Agent": "Mozilla/5.0 (test)", **(headers or {})},
        environ_base={"REMOTE_ADDR": ip},
    )


def post_json(gateway: Client, key: str, values: dict[str, Any], **kw: Any) -> TestResponse:
    return visitor_post(gateway, key, json.dumps(values), "application/json", **kw)


def person(admin: Caller, form: dict[str, Any], **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": f"ada.{uuid.uuid4().hex[:6]}@engines.io",
        "company": "Engines Ltd",
        "consent": True,
        "_ts": token(admin, form),
        "page_url": "https://www.example.com/pricing?utm_source=newsletter&utm_campaign=spring",
        "referrer": "https://news.example.org/",
    }
    values.update(changes)
    return values


def leads_of(admin: Caller) -> list[dict[str, Any]]:
    response = admin.get("/leads", query={"per_page": 100})
    assert response.status_code == 200
    return list(response.json["data"])


def submissions(admin: Caller, form: dict[str, Any]) -> list[dict[str, Any]]:
    response = admin.get(f"/lead-forms/{form['id']}/submissions")
    assert response.status_code == 200, response.json
    return list(response.json["data"])


# ------------------------------------------------------------------ admin routes
def test_admin_creates_reads_replaces_and_deletes_a_form(alice, gateway):
    form = make_form(alice)
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", form["public_key"])
    assert form["hosted_url"] == f"/f/{form['public_key']}"
    assert form["embed_url"] == f"/f/{form['public_key']}/embed.js"
    assert form["consent_version"] == 1
    assert "token_secret" not in form and "tenant_id" not in form

    assert alice.get(f"/lead-forms/{form['id']}").json == form
    assert [f["id"] for f in alice.get("/lead-forms").json["data"]] == [form["id"]]

    same_text = alice.put(f"/lead-forms/{form['id']}", form_body(name="Talk to sales"))
    assert same_text.status_code == 200 and same_text.json["consent_version"] == 1
    changed = alice.put(f"/lead-forms/{form['id']}", form_body(consent_text="New wording."))
    assert changed.json["consent_version"] == 2
    assert changed.json["public_key"] == form["public_key"]

    rotated = alice.put(f"/lead-forms/{form['id']}", form_body(rotate_key=True))
    assert rotated.status_code == 200 and rotated.json["public_key"] != form["public_key"]
    assert gateway.get(f"/f/{form['public_key']}").status_code == 404
    assert gateway.get(f"/f/{rotated.json['public_key']}").status_code == 200

    assert alice.delete(f"/lead-forms/{form['id']}").json == {"success": True}
    assert alice.get(f"/lead-forms/{form['id']}").status_code == 404
    assert gateway.get(f"/f/{rotated.json['public_key']}").status_code == 404


def test_form_settings_are_validated(alice):
    no_names = form_body(fields=[{"name": "email", "label": "Email", "type": "email"}])
    assert alice.post("/lead-forms", no_names).status_code == 422
    bad = alice.post("/lead-forms", form_body(allowed_origins=["javascript:alert(1)"], owner_id=99))
    assert bad.status_code == 422
    assert set(bad.json["errors"]) >= {"allowed_origins.0"}
    wrong_owner = alice.post("/lead-forms", form_body(owner_id=99))
    assert wrong_owner.status_code == 422 and "owner_id" in wrong_owner.json["errors"]
    no_consent_text = alice.post("/lead-forms", form_body(consent_text=None))
    assert no_consent_text.status_code == 422


def test_a_plain_user_may_not_manage_forms(alice, bob):
    form = make_form(alice)
    assert bob.get("/lead-forms").status_code == 403
    assert bob.get(f"/lead-forms/{form['id']}/submissions").status_code == 403


# ------------------------------------------------------------------ public capture
def test_a_json_post_makes_one_lead_with_attribution_and_consent(alice, gateway):
    form = make_form(alice)
    values = person(alice, form)
    response = post_json(gateway, form["public_key"], values)
    assert response.status_code == 201, response.json
    assert set(response.json) == {"submission_id", "message", "redirect_url"}

    (lead,) = [lead for lead in leads_of(alice) if lead["email"] == values["email"]]
    assert (
        lead["source"] == "Website" and lead["assigned_to"] == 2 and lead["assigned_to_name"] == "Bob Baker"
    )
    detail = alice.get(f"/leads/{lead['id']}").json
    attribution = detail["attribution"]
    assert attribution["page_url"] == values["page_url"]
    assert attribution["referrer"] == "https://news.example.org/"
    assert attribution["utm_source"] == "newsletter" and attribution["utm_campaign"] == "spring"
    assert attribution["ip"] == VISITOR_IP and attribution["user_agent"] == "Mozilla/5.0 (test)"
    assert attribution["form_id"] == form["id"]
    consent = detail["consent"]
    assert consent["text"] == "We may contact you about our products." and consent["text_version"] == 1
    assert consent["ip"] == VISITOR_IP and consent["given_at"]

    (recorded,) = submissions(alice, form)
    assert recorded["outcome"] == "created" and recorded["lead_id"] == lead["id"]
    assert recorded["page_url"] == values["page_url"] and recorded["id"] == response.json["submission_id"]


def test_source_comes_from_utm_source_when_the_form_sets_none(alice, gateway):
    form = make_form(alice, source=None, owner_id=None)
    values = person(alice, form)
    assert post_json(gateway, form["public_key"], values).status_code == 201
    (lead,) = [lead for lead in leads_of(alice) if lead["email"] == values["email"]]
    assert lead["source"] == "newsletter" and lead["assigned_to"] is None


def test_a_browser_post_is_redirected_or_thanked(alice, gateway):
    redirecting = make_form(alice, redirect_url="https://www.example.com/thanks")
    values = person(alice, redirecting, consent="on")
    response = visitor_post(
        gateway,
        redirecting["public_key"],
        urllib.parse.urlencode(values),
        "application/x-www-form-urlencoded",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    assert response.headers["Location"] == "https://www.example.com/thanks"

    thanking = make_form(alice)
    values = person(alice, thanking, consent="on")
    boundary = "----form" + uuid.uuid4().hex
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in values.items()
    )
    body = (parts + f"--{boundary}--\r\n").encode()
    response = visitor_post(
        gateway, thanking["public_key"], body, f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Thank you" in response.get_data(as_text=True)
    emails = {lead["email"] for lead in leads_of(alice)}
    assert values["email"] in emails


def test_invalid_fields_are_a_422_envelope_or_the_page_again(alice, gateway):
    form = make_form(alice)
    values = person(alice, form, email="not-an-email", first_name=" ", consent=False, job_title="Intern")
    response = post_json(gateway, form["public_key"], values)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"first_name", "consent", "job_title"}
    values.update(first_name="Ada", consent=True, job_title="CTO")
    response = post_json(gateway, form["public_key"], values)
    assert response.status_code == 422 and set(response.json["errors"]) == {"email"}

    browser = person(alice, form, first_name="", company="<script>x</script>")
    browser.pop("consent")
    page = visitor_post(
        gateway, form["public_key"], urllib.parse.urlencode(browser), "application/x-www-form-urlencoded"
    )
    assert page.status_code == 422 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "The First name field is required." in html and "Please tick" in html
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert leads_of(alice) == []


def test_the_same_submission_makes_one_lead_and_the_same_answer(alice, gateway):
    form = make_form(alice)
    values = person(alice, form)
    first = post_json(gateway, form["public_key"], values)
    again = post_json(gateway, form["public_key"], values)
    assert first.status_code == again.status_code == 201 and first.json == again.json

    with_id = person(alice, form, submission_id="a" * 32)
    one = post_json(gateway, form["public_key"], with_id)
    # a retried request with the same submission_id (another token: a re-rendered script)
    two = post_json(gateway, form["public_key"], {**with_id, "_ts": token(alice, form, age=9)})
    assert one.json == two.json and one.json["submission_id"] == "a" * 32
    assert len(leads_of(alice)) == 2
    assert len(submissions(alice, form)) == 2


def test_the_honeypot_and_the_time_token_stop_bots_silently(alice, gateway):
    form = make_form(alice)
    key = form["public_key"]
    bots = {
        "honeypot": person(alice, form, hp_extra="http://spam.example"),
        "no time token": person(alice, form, _ts=None),
        "posted too fast": person(alice, form, _ts=token(alice, form, age=0)),
        "time token expired": person(alice, form, _ts=token(alice, form, age=2 * 24 * 3600)),
        "invalid time token": person(alice, form, _ts="1700000000.deadbeef"),
    }
    for reason, values in bots.items():
        response = post_json(gateway, key, values)
        assert response.status_code == 201, (reason, response.json)  # a bot learns nothing
    assert leads_of(alice) == []
    recorded = {(s["outcome"], s["reason"]) for s in submissions(alice, form)}
    assert recorded == {("spam", reason) for reason in bots}

    unchecked = make_form(alice, timing_check=False)
    assert post_json(gateway, unchecked["public_key"], person(alice, unchecked, _ts=None)).status_code == 201
    assert len(leads_of(alice)) == 1


def test_rate_limits_answer_429_with_retry_after(alice, gateway):
    form = make_form(alice, rate_limit_per_ip_per_minute=2, rate_limit_per_minute=3)
    key = form["public_key"]
    answers = [post_json(gateway, key, person(alice, form)).status_code for _ in range(3)]
    if answers[-1] != 429 and int(time.time()) % 60 < 2:  # the minute turned meanwhile
        answers = [post_json(gateway, key, person(alice, form)).status_code for _ in range(3)]
    assert answers == [201, 201, 429]
    limited = post_json(gateway, key, person(alice, form))
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json == {"message": "Too many submissions. Please retry later."}
    # the form's own limit (3 a minute) holds for other IPs too
    other = post_json(gateway, key, person(alice, form), ip="198.51.100.1")
    assert other.status_code == 429


def test_only_the_forms_origins_get_cors_headers(alice, gateway):
    form = make_form(alice)
    key = form["public_key"]
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = gateway.options(f"/f/{key}", headers={"Origin": ORIGIN, **preflight})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    other = gateway.options(f"/f/{key}", headers={"Origin": "https://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in other.headers

    posted = post_json(gateway, key, person(alice, form), headers={"Origin": ORIGIN})
    assert posted.status_code == 201 and posted.headers["Access-Control-Allow-Origin"] == ORIGIN
    elsewhere = post_json(gateway, key, person(alice, form), headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in elsewhere.headers
    invalid = post_json(gateway, key, {"_ts": token(alice, form)}, headers={"Origin": ORIGIN})
    assert invalid.status_code == 422 and invalid.headers["Access-Control-Allow-Origin"] == ORIGIN
    script = gateway.get(f"/f/{key}/embed.js", headers={"Origin": ORIGIN})
    assert script.status_code == 200 and script.mimetype == "application/javascript"


def test_an_open_lead_with_the_email_is_filled_in_not_duplicated(alice, gateway):
    email = f"grace.{uuid.uuid4().hex[:6]}@navy.mil"
    existing = alice.post("/leads", {"first_name": "Grace", "last_name": "Hopper", "email": email})
    assert existing.status_code == 201
    form = make_form(alice)
    values = person(alice, form, email=email.upper(), phone="+1 555 0100", company="Navy")
    assert post_json(gateway, form["public_key"], values).status_code == 201
    leads = leads_of(alice)
    assert len(leads) == 1
    detail = alice.get(f"/leads/{existing.json['id']}").json
    assert detail["phone"] == "+1 555 0100" and detail["company"] == "Navy"
    assert detail["first_name"] == "Grace" and detail["consent"]["text_version"] == 1
    assert "Contact us" in detail["lead_notes"][0]["content"]
    assert submissions(alice, form)[0]["outcome"] == "updated"

    again = person(alice, form, email=email, company="Other")
    assert post_json(gateway, form["public_key"], again).status_code == 201
    assert submissions(alice, form)[0]["outcome"] == "duplicate"
    assert alice.get(f"/leads/{existing.json['id']}").json["company"] == "Navy"

    always = make_form(alice, always_create=True)
    assert post_json(gateway, always["public_key"], person(alice, always, email=email)).status_code == 201
    assert len(leads_of(alice)) == 2


def test_unknown_inactive_and_hostile_requests_are_clear_4xx(alice, gateway):
    form = make_form(alice)
    key = form["public_key"]
    assert gateway.get("/f/nosuchformkey0000000000").status_code == 404
    assert post_json(gateway, "nosuchformkey0000000000", {}).status_code == 404
    assert gateway.get("/f/" + "x" * 300).status_code in (404, 422)

    big = person(alice, form, notes="x" * 70_000)
    assert post_json(gateway, key, big).status_code == 413
    long_field = post_json(gateway, key, person(alice, form, company="x" * 5000))
    assert long_field.status_code == 422 and "company" in long_field.json["errors"]
    assert post_json(gateway, key, ["a"]).status_code == 422  # type: ignore[arg-type]
    assert visitor_post(gateway, key, "{not json", "application/json").status_code == 400
    assert visitor_post(gateway, key, "hello", "text/plain").status_code == 415
    nested = post_json(gateway, key, person(alice, form, company={"a": [1]}))
    assert nested.status_code == 422
    no_boundary = visitor_post(gateway, key, "x", "multipart/form-data")
    assert no_boundary.status_code == 400
    for response in (long_field, nested, no_boundary):
        assert "Traceback" not in response.get_data(as_text=True)

    alice.put(f"/lead-forms/{form['id']}", form_body(active=False))
    assert gateway.get(f"/f/{key}").status_code == 404
    assert post_json(gateway, key, person(alice, form)).status_code == 404


def test_the_hosted_page_and_the_script_carry_the_form(alice, gateway):
    form = make_form(alice, name='Talk to "us" <now>')
    page = gateway.get(
        f"/f/{form['public_key']}?utm_source=ads", headers={"Referer": "https://search.example/"}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Talk to &quot;us&quot; &lt;now&gt;" in html
    assert 'for="f-email"' in html and 'name="_ts"' in html and 'name="hp_extra"' in html
    assert "We may contact you about our products." in html
    assert 'name="utm_source" value="ads"' in html and 'value="https://search.example/"' in html
    script = gateway.get(f"/f/{form['public_key']}/embed.js").get_data(as_text=True)
    assert "\\u003cnow\\u003e" in script and "<now>" not in script


# ------------------------------------------------------------------ CAPTCHA
@pytest.fixture
def captcha_stand_in(monkeypatch) -> Iterator[list[dict[str, list[str]]]]:
    """A provider's verification endpoint on 127.0.0.1: "human" is the only right answer."""
    received: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            fields = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            received.append(fields)
            body = json.dumps({"success": fields.get("response") == ["human"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("CAPTCHA_VERIFY_URL", f"http://127.0.0.1:{server.server_port}/siteverify")
    get_settings.cache_clear()
    try:
        yield received
    finally:
        server.shutdown()
        get_settings.cache_clear()


def test_a_captcha_form_needs_the_providers_yes(alice, gateway, captcha_stand_in):
    name = f"/leads/{get_settings().stage}/captcha/{alice.tenant_id}/turnstile"
    boto3.client("ssm").put_parameter(Name=name, Value="the-secret", Type="SecureString", Overwrite=True)
    form = make_form(
        alice, captcha={"provider": "turnstile", "site_key": "0x4AAA", "secret_parameter": "turnstile"}
    )
    key = form["public_key"]
    robot = post_json(gateway, key, person(alice, form, captcha_token="robot"))
    assert robot.status_code == 422 and set(robot.json["errors"]) == {"captcha"}
    missing = post_json(gateway, key, person(alice, form))
    assert missing.status_code == 422
    human = post_json(gateway, key, person(alice, form, **{"cf-turnstile-response": "human"}))
    assert human.status_code == 201
    assert captcha_stand_in[-1]["secret"] == ["the-secret"] and captcha_stand_in[-1]["remoteip"] == [
        VISITOR_IP
    ]
    assert len(leads_of(alice)) == 1
    assert "challenges.cloudflare.com/turnstile" in gateway.get(f"/f/{key}").get_data(as_text=True)
