"""Lead forms in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`,
which `make test` installs) driven by Selenium against the local stack. A form made through the
API is opened at `/f/{key}`, filled and sent; the thank-you shows and the lead is found through
`GET /leads`, with where it came from and the consent given. The same for the embed script on a
page of another origin (posting with `fetch`, through CORS)."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from tests.e2e.conftest import bearer, token_for

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# What a person needs at least between opening the form and sending it (FORM_MIN_FILL_SECONDS).
FILL_SECONDS = 2.2
WAIT_SECONDS = 20

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason="Chromium is not installed (`make test` installs Debian's chromium and chromium-driver)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def customer_site() -> Iterator[tuple[str, dict[str, str]]]:
    """A customer's website on another origin: serves ``pages[path]`` as HTML."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?", 1)[0], "not found").encode()
            self.send_response(200 if self.path.split("?", 1)[0] in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", pages
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def admin() -> dict[str, str]:
    """The admin of a tenant of these tests' own (acme's demo leads stay as other tests count them)."""
    return bearer(token_for(1, f"e2e-forms-{uuid.uuid4().hex[:8]}", role="admin"))


def make_form(base_url: str, admin: dict[str, str], origin: str) -> dict[str, Any]:
    body = {
        "name": "Book a demo",
        "fields": [
            {"name": "first_name", "label": "First name", "required": True},
            {"name": "last_name", "label": "Last name", "required": True},
            {"name": "email", "label": "Work email", "type": "email", "required": True},
            {"name": "job_title", "label": "Role", "type": "select", "options": ["CTO", "CEO"]},
            {"name": "consent", "label": "I agree to be contacted", "type": "checkbox", "required": True},
        ],
        "source": "Website",
        "owner_id": 1,  # the admin making it
        "allowed_origins": [origin],
        "consent_text": "We may contact you about our products.",
    }
    response = requests.post(f"{base_url}/lead-forms", json=body, headers=admin, timeout=30)
    assert response.status_code == 201, response.text
    return dict(response.json())


def lead_with(base_url: str, admin: dict[str, str], email: str) -> dict[str, Any]:
    listed = requests.get(f"{base_url}/leads", params={"search": email}, headers=admin, timeout=30)
    assert listed.status_code == 200, listed.text
    (found,) = [lead for lead in listed.json()["data"] if lead["email"] == email]
    detail = requests.get(f"{base_url}/leads/{found['id']}", headers=admin, timeout=30)
    return dict(detail.json())


def fill(browser: Any, email: str, prefix: str = "") -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    browser.find_element(By.NAME, "first_name").send_keys("Ada")
    browser.find_element(By.NAME, "last_name").send_keys("Lovelace")
    browser.find_element(By.NAME, "email").send_keys(email)
    Select(browser.find_element(By.NAME, "job_title")).select_by_visible_text("CTO")
    browser.find_element(By.NAME, "consent").click()


def test_the_hosted_page_makes_a_lead(browser, base_url, admin):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    form = make_form(base_url, admin, "https://www.example.com")
    email = f"ada.{uuid.uuid4().hex[:8]}@engines.io"
    page = f"{base_url}{form['hosted_url']}?utm_source=browser-test&utm_campaign=e2e"
    browser.get(page)
    opened = time.monotonic()
    assert browser.title == "Book a demo"
    label = browser.find_element(By.CSS_SELECTOR, "label[for='f-email']")
    assert "Work email" in label.text
    # sent empty first (after a person's time: sooner is a bot's, answered as if received): the
    # page again, with the messages and a new time token, and nothing made
    time.sleep(max(0.0, FILL_SECONDS - (time.monotonic() - opened)))
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        expected_conditions.presence_of_element_located((By.ID, "problems"))
    )
    opened = time.monotonic()
    assert "The First name field is required." in browser.page_source

    fill(browser, email)
    time.sleep(max(0.0, FILL_SECONDS - (time.monotonic() - opened)))
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "Thank you")
    )

    lead = lead_with(base_url, admin, email)
    assert (lead["first_name"], lead["job_title"], lead["source"]) == ("Ada", "CTO", "Website")
    assert lead["assigned_to"] == 1
    assert lead["attribution"]["page_url"].startswith(f"{base_url}/f/")
    assert lead["attribution"]["utm_campaign"] == "e2e"
    assert "Chrome" in lead["attribution"]["user_agent"]
    assert lead["attribution"]["ip"] == "127.0.0.1"
    assert lead["consent"]["text"] == "We may contact you about our products."


def test_the_embed_script_makes_a_lead_from_another_origin(browser, base_url, admin, customer_site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    site, pages = customer_site
    form = make_form(base_url, admin, site)
    pages["/pricing"] = (
        "<!doctype html><html><head><title>Pricing</title></head><body><h1>Pricing</h1>"
        '<div id="lead-form"></div>'
        f'<script src="{base_url}{form["embed_url"]}" data-target="lead-form" async></script>'
        "</body></html>"
    )
    email = f"grace.{uuid.uuid4().hex[:8]}@navy.mil"
    browser.get(f"{site}/pricing?utm_source=embed-test")
    WebDriverWait(browser, WAIT_SECONDS).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#lead-form input[name=email]"))
    )
    opened = time.monotonic()
    fill(browser, email)
    time.sleep(max(0.0, FILL_SECONDS - (time.monotonic() - opened)))
    browser.find_element(By.CSS_SELECTOR, "#lead-form button[type=submit]").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        expected_conditions.text_to_be_present_in_element(
            (By.CSS_SELECTOR, ".leads-form-thanks"), "Thank you"
        )
    )

    lead = lead_with(base_url, admin, email)
    assert lead["attribution"]["page_url"] == f"{site}/pricing?utm_source=embed-test"
    assert lead["attribution"]["utm_source"] == "embed-test" and lead["source"] == "Website"
    assert lead["consent"]["text_version"] == 1


def test_the_embed_is_refused_on_an_origin_the_form_does_not_allow(browser, base_url, admin, customer_site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    site, pages = customer_site
    form = make_form(base_url, admin, "https://www.example.com")
    pages["/elsewhere"] = (
        '<!doctype html><html><head><title>Elsewhere</title></head><body><div id="f"></div>'
        f'<script src="{base_url}{form["embed_url"]}" data-target="f"></script></body></html>'
    )
    email = f"mallory.{uuid.uuid4().hex[:8]}@example.org"
    browser.get(f"{site}/elsewhere")
    WebDriverWait(browser, WAIT_SECONDS).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#f input[name=email]"))
    )
    fill(browser, email)
    time.sleep(FILL_SECONDS)
    browser.find_element(By.CSS_SELECTOR, "#f button[type=submit]").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        expected_conditions.text_to_be_present_in_element(
            (By.CSS_SELECTOR, ".leads-form-status"), "could not"
        )
    )
    listed = requests.get(f"{base_url}/leads", params={"search": email}, headers=admin, timeout=30)
    assert listed.json()["data"] == []  # the preflight got no CORS headers: nothing was posted
