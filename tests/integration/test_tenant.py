"""The tenant's settings and its drop-box address: what an admin reads and changes, that the
settings are made once however many first calls race, that a rotated address stops linking mail
at once (and the new one links it), and that one tenant's token never opens another's drop-box.
Who may call the routes (401, 403) is the security matrix's (test_security_matrix.py)."""

from __future__ import annotations

import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from leads_shared import dropbox, tenants
from leads_shared.auth import Principal
from leads_shared.clock import utc_now
from leads_shared.config import get_settings
from leads_shared.data import get_tenant_store
from leads_shared.data.mail_store import MailStore
from leads_shared.data.tenant_store import TenantStore
from leads_shared.data.writes import VersionConflict
from leads_shared.errors import PreconditionFailed, ServiceUnavailable
from leads_shared.models.tenant import TenantSettings, TenantUpdate
from tests.support.clients import Caller, lead_body
from tests.support.mail import OK, alternative, deliver, linked, rejection, s3_event, sqs_event

NOT_A_CURRENCY = "The currency field must be a 3-letter ISO 4217 code, such as USD."
ANSWER_KEYS = {"id", "name", "currency", "inbound_address", "created_at", "updated_at"}
ADDRESS = re.compile(r"leads\+(?P<tenant>[A-Za-z0-9_.-]+)\.(?P<token>[a-z0-9]{20})@inbound\.example\.com")


def address_of(admin: Caller) -> str:
    response = admin.get("/tenant")
    assert response.status_code == 200, response.json
    return str(response.json["inbound_address"])


def send(emulator: Any, ingest: Any, sender: str, to: str) -> tuple[str, str]:
    """Deliver a new message from ``sender`` to ``to``: (its object key, when it was sent)."""
    key, since = f"inbound/{uuid.uuid4().hex}", utc_now()
    assert deliver(emulator, ingest, alternative(sender, [to]), key=key) == OK
    return key, since


# ------------------------------------------------------------------ the routes
def test_an_admin_reads_the_settings_made_on_first_use(tenant, alice):
    first = alice.get("/tenant")

    assert first.status_code == 200 and first.headers["ETag"] == '"1"'
    assert set(first.json) == ANSWER_KEYS
    assert first.json["id"] == tenant.tenant_id and first.json["name"] == tenant.tenant_id
    assert first.json["currency"] == "USD"
    found = ADDRESS.fullmatch(first.json["inbound_address"])
    assert found and found["tenant"] == tenant.tenant_id
    assert alice.last_cost["by_operation"] == {"GetItem": 1, "PutItem": 1}  # made once, on condition

    again = alice.get("/tenant")
    assert again.json == first.json and again.headers["ETag"] == '"1"'
    assert alice.last_cost["by_operation"] == {"GetItem": 1}


def test_an_admin_renames_the_tenant_and_sets_its_currency(alice):
    alice.get("/tenant")
    response = alice.put("/tenant", {"name": "  Initech Europe ", "currency": "eur"})

    assert response.status_code == 200, response.json
    assert response.headers["ETag"] == '"2"'
    assert (response.json["name"], response.json["currency"]) == ("Initech Europe", "EUR")
    assert alice.last_cost["by_operation"] == {"GetItem": 1, "PutItem": 1}
    assert alice.get("/tenant").json == response.json

    # a field left out keeps its value; what is not a setting is ignored, the address above all
    kept = alice.put("/tenant", {"currency": "gbp", "inbound_address": "leads+x.y@evil.com", "id": "x"})
    assert kept.status_code == 200
    assert (kept.json["name"], kept.json["currency"]) == ("Initech Europe", "GBP")
    assert kept.json["inbound_address"] == response.json["inbound_address"]
    assert kept.json["id"] == response.json["id"]

    unchanged = alice.put("/tenant", {})  # nothing to change: no write, same version
    assert unchanged.status_code == 200 and unchanged.headers["ETag"] == '"3"'
    assert alice.last_cost["by_operation"] == {"GetItem": 1}


def test_if_match_guards_the_settings_against_lost_updates(alice):
    alice.get("/tenant")
    assert alice.put("/tenant", {"name": "One"}, headers={"If-Match": '"1"'}).status_code == 200
    stale = alice.put("/tenant", {"name": "Two"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and set(stale.json) == {"message"}
    assert alice.get("/tenant").json["name"] == "One"
    fresh = alice.put("/tenant", {"name": "Two"}, headers={"If-Match": '"2"'})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == '"3"'


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"name": ""}, {"name": ["The name field is required."]}),
        ({"name": "   "}, {"name": ["The name field is required."]}),
        ({"name": None}, {"name": ["The name field is required."]}),
        ({"name": "x" * 256}, {"name": ["The name field must not be greater than 255 characters."]}),
        ({"name": 7}, {"name": ["The name field must be a string."]}),
        ({"currency": "EURO"}, {"currency": [NOT_A_CURRENCY]}),
        ({"currency": "€"}, {"currency": [NOT_A_CURRENCY]}),
        ({"currency": None}, {"currency": ["The currency field is required."]}),
        ({"currency": 840}, {"currency": ["The currency field must be a string."]}),
        ([{"name": "A"}], {"body": ["The request body must be a JSON object."]}),
        ([None, None], {"body": ["The request body must be a JSON object."]}),
        ("x", {"body": ["The request body must be a JSON object."]}),
    ],
)  # fmt: skip
def test_invalid_settings_are_a_422_naming_each_field_and_change_nothing(alice, body, errors):
    before = alice.get("/tenant").json

    response = alice.put("/tenant", body)

    assert response.status_code == 422
    assert response.json["errors"] == errors
    assert response.json["message"] == next(iter(errors.values()))[0]
    assert alice.get("/tenant").json == before


def test_a_plain_user_may_not_read_change_or_rotate_the_settings(tenant, alice, bob):
    before = alice.get("/tenant").json
    for method, path, body in (
        ("GET", "/tenant", None),
        ("PUT", "/tenant", {"name": "Mine now"}),
        ("POST", "/tenant/inbound-address", None),
    ):
        response = bob.request(method, path, json_body=body)
        assert response.status_code == 403 and response.json == {"message": "This action is unauthorized."}
        assert bob.last_cost["requests"] == 0, f"{method} {path} read or wrote before the role check"
    assert alice.get("/tenant").json == before


def test_answers_carry_no_token_history_version_or_key(alice):
    for response in (
        alice.get("/tenant"),
        alice.put("/tenant", {"name": "Shown"}),
        alice.post("/tenant/inbound-address"),
    ):
        assert response.status_code == 200
        assert set(response.json) == ANSWER_KEYS
        text = response.get_data(as_text=True)
        assert "TENANT#" not in text and "SETTINGS" not in text and "retired" not in text
    rotated_away = get_tenant_store().settings(alice.tenant_id)
    assert rotated_away is not None and rotated_away.retired_inbound_tokens
    assert rotated_away.retired_inbound_tokens[0] not in response.get_data(as_text=True)


# ------------------------------------------------------------------ made once
def test_concurrent_first_calls_make_one_set_of_settings(gateway):
    tenant_id = f"t-{uuid.uuid4().hex[:12]}"
    store = get_tenant_store()
    start = threading.Barrier(8)

    def first_use(_: int) -> TenantSettings:
        start.wait()
        return tenants.settings_of(tenant_id, store)

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(first_use, range(8)))

    assert len({settings.inbound_token for settings in made}) == 1
    assert all(settings == made[0] for settings in made)
    assert store.settings(tenant_id) == made[0]


def test_a_concurrent_change_is_applied_again_not_lost_and_is_a_412_with_if_match(tenant):
    admin = Principal(user_id=1, tenant_id=tenant.tenant_id, role="admin")
    store = get_tenant_store()
    tenants.settings_of(tenant.tenant_id, store)

    class Interleaved(TenantStore):
        """Another admin sets the currency between this update's read and its write (once)."""

        def __init__(self, currency: str) -> None:
            super().__init__(store.table)
            self.currency: str | None = currency

        def replace(self, before: TenantSettings, after: TenantSettings) -> None:
            if self.currency:
                tenants.update_settings(admin, TenantUpdate(currency=self.currency), store)
                self.currency = None
            super().replace(before, after)

    updated = tenants.update_settings(admin, TenantUpdate(name="Renamed"), Interleaved("JPY"))
    assert (updated.name, updated.currency, updated.version) == ("Renamed", "JPY", 3)
    assert store.settings(tenant.tenant_id) == updated

    with pytest.raises(PreconditionFailed):
        tenants.update_settings(admin, TenantUpdate(name="Late"), Interleaved("CHF"), if_match='"3"')
    after = store.settings(tenant.tenant_id)
    assert after is not None and (after.name, after.currency) == ("Renamed", "CHF")


def test_a_write_whose_answer_was_lost_is_not_taken_for_someone_elses(tenant):
    """The SDK retries a write whose answer it lost; the retry's condition then fails on the
    version the first try wrote. That is our write, not a 412."""
    admin = Principal(user_id=1, tenant_id=tenant.tenant_id, role="admin")
    store = get_tenant_store()
    tenants.settings_of(tenant.tenant_id, store)

    class LostAnswer(TenantStore):
        def replace(self, before: TenantSettings, after: TenantSettings) -> None:
            super().replace(before, after)
            raise VersionConflict()

    updated = tenants.update_settings(
        admin, TenantUpdate(name="Once"), LostAnswer(store.table), if_match='"1"'
    )
    assert (updated.name, updated.version) == ("Once", 2)
    assert store.settings(tenant.tenant_id) == updated


# ------------------------------------------------------------------ the drop-box address
def test_rotating_the_address_stops_the_old_one_at_once_and_the_new_one_links(
    emulator, ingest, tenant, alice
):
    lead = alice.post("/leads", lead_body(email="ann@client-co.com")).json
    old = address_of(alice)
    send(emulator, ingest, "ann@client-co.com", old)
    assert len(linked(alice, lead["id"])) == 1

    rotated = alice.post("/tenant/inbound-address")

    assert rotated.status_code == 200, rotated.json
    assert set(rotated.json) == ANSWER_KEYS and rotated.headers["ETag"] == '"2"'
    new = rotated.json["inbound_address"]
    assert new != old and ADDRESS.fullmatch(new)
    assert alice.last_cost["by_operation"] == {"GetItem": 1, "PutItem": 1}
    assert address_of(alice) == new

    key, since = send(emulator, ingest, "ann@client-co.com", old)
    found = rejection(key, since)
    assert found["reason"] == "The drop-box address is no longer valid (rotated)."
    assert found["tenant_id"] == tenant.tenant_id
    assert len(linked(alice, lead["id"])) == 1  # not linked

    send(emulator, ingest, "ann@client-co.com", new)
    assert len(linked(alice, lead["id"])) == 2

    again = alice.post("/tenant/inbound-address").json["inbound_address"]  # the one before is gone too
    key, since = send(emulator, ingest, "ann@client-co.com", new)
    assert rejection(key, since)["reason"] == dropbox.ROTATED
    assert again not in (old, new)


def test_the_old_address_without_a_token_is_refused(emulator, ingest, tenant, alice):
    lead = alice.post("/leads", lead_body(email="legacy@client-co.com")).json
    address_of(alice)  # the tenant has settings, and so a real address

    key, since = send(
        emulator, ingest, "legacy@client-co.com", f"leads+{tenant.tenant_id}@inbound.example.com"
    )

    assert rejection(key, since)["reason"] == dropbox.NO_TOKEN
    assert linked(alice, lead["id"]) == []


def test_a_tenants_token_never_opens_another_tenants_drop_box(emulator, ingest, tenant, other_tenant, alice):
    mine = alice.post("/leads", lead_body(email="sam@client-co.com")).json
    stranger = other_tenant.as_user(1)
    theirs = stranger.post("/leads", lead_body(email="sam@client-co.com")).json
    my_token = ADDRESS.fullmatch(address_of(alice))["token"]
    address_of(stranger)

    forged = f"leads+{other_tenant.tenant_id}.{my_token}@inbound.example.com"
    key, since = send(emulator, ingest, "sam@client-co.com", forged)

    found = rejection(key, since)
    assert found["reason"] == dropbox.WRONG_TOKEN and found["tenant_id"] == other_tenant.tenant_id
    assert linked(stranger, theirs["id"]) == [] and linked(alice, mine["id"]) == []


def test_a_tenant_without_settings_has_no_address_yet(emulator, ingest, tenant, alice):
    lead = alice.post("/leads", lead_body(email="early@client-co.com")).json
    guess = f"leads+{tenant.tenant_id}.{'a' * 20}@inbound.example.com"

    key, since = send(emulator, ingest, "early@client-co.com", guess)

    assert rejection(key, since)["reason"] == dropbox.NO_ADDRESS
    assert linked(alice, lead["id"]) == []
    assert get_tenant_store().settings(tenant.tenant_id) is None  # capture never makes settings


def test_a_redelivery_after_a_rotation_finishes_what_the_first_delivery_began(
    emulator, ingest, tenant, alice, monkeypatch
):
    """Exactly once across a rotation: a message accepted while its address was current, whose
    links failed, is finished by the queue's redelivery even though the address has rotated since;
    and then it is a duplicate, not a rejection."""
    lead = alice.post("/leads", lead_body(email="retry@client-co.com")).json
    old = address_of(alice)
    raw = alternative("retry@client-co.com", [old])
    key = f"inbound/{uuid.uuid4().hex}"
    emulator.client("s3").put_object(Bucket=get_settings().bucket_name, Key=key, Body=raw)
    event = sqs_event(s3_event(get_settings().bucket_name, key, len(raw)))

    def throttled(*_: Any, **__: Any) -> bool:
        raise ServiceUnavailable("busy")

    with monkeypatch.context() as patched:  # the email is stored, then linking fails
        patched.setattr(MailStore, "add_link", throttled)
        assert ingest.invoke(event)["batchItemFailures"]
    assert linked(alice, lead["id"]) == []
    assert alice.post("/tenant/inbound-address").status_code == 200

    assert ingest.invoke(event) == OK
    assert len(linked(alice, lead["id"])) == 1
    assert ingest.invoke(event) == OK  # from now on a duplicate
    assert len(linked(alice, lead["id"])) == 1

    # a new message to the rotated address is still refused
    key, since = send(emulator, ingest, "retry@client-co.com", old)
    assert rejection(key, since)["reason"] == dropbox.ROTATED
    assert len(linked(alice, lead["id"])) == 1


def test_the_rotation_takes_no_fields_but_refuses_a_body_that_is_not_a_json_object(alice):
    before = address_of(alice)
    not_json = alice.request(
        "POST", "/tenant/inbound-address", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.json == {"message": "The request body is not valid JSON."}
    listed = alice.post("/tenant/inbound-address", [1])
    assert listed.status_code == 422
    assert listed.json["errors"] == {"body": ["The request body must be a JSON object."]}
    assert address_of(alice) == before  # neither rotated
    assert alice.post("/tenant/inbound-address", {"inbound_address": "mine@evil.com"}).status_code == 200
    assert address_of(alice) not in (before, "mine@evil.com")
