"""`make dev`'s demo data is what the README promises, and the same on every start."""

from __future__ import annotations

from devstack.seed import demo_dropbox_addresses, demo_leads, demo_settings
from leads_shared.data import get_directory_store, get_lead_store, get_mail_store, get_tenant_store


def test_tenants_teams_users_and_stages(demo_data):
    """(The sample events in events/directory add a user, a team and a stage to acme.)"""
    directory = get_directory_store()
    assert [(t.id, t.name) for t in directory.teams("acme")][:2] == [(1, "Inbound"), (2, "Enterprise")]
    assert [(u.id, u.name, u.role, u.team_id) for u in directory.users("acme")][:3] == [
        (1, "Alice Admin", "admin", 1),
        (2, "Bob Baker", "user", 1),
        (3, "Carol Chen", "user", 2),
    ]
    assert [(t.id, t.name) for t in directory.teams("globex")] == [(1, "Sales")]
    assert [(u.id, u.name, u.role) for u in directory.users("globex")] == [
        (1, "Gina Admin", "admin"),
        (2, "Hank Hill", "user"),
    ]
    stages = ["Prospecting", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
    for tenant in ("acme", "globex"):
        assert [(s.id, s.name) for s in directory.stages(tenant)][:5] == list(enumerate(stages, start=1))


def test_leads_are_counted_and_the_same_every_time(demo_data):
    store = get_lead_store()
    assert store.stats("acme").total == 50 and store.stats("acme").lead_seq == 50
    assert store.stats("globex").total == 0
    assert demo_leads("acme") == demo_leads("acme")  # deterministic, timestamps included
    assert store.get("acme", 7) == demo_leads("acme")[6]


def test_each_demo_tenant_has_settings_with_a_fixed_drop_box_address(demo_data):
    assert demo_dropbox_addresses("inbound.example.com") == {
        "acme": "leads+acme.acmedemotoken0000001@inbound.example.com",
        "globex": "leads+globex.globexdemotoken00001@inbound.example.com",
    }
    # (acme's sample events change and rotate its settings: globex is as seeded)
    assert get_tenant_store().settings("globex") == demo_settings("globex")
    assert demo_settings("acme") == demo_settings("acme")  # the same on every start
    assert get_tenant_store().settings("acme").name == "Acme Inc."
    # lead 1's two demo emails were captured through acme's address (not rejected)
    mail = get_mail_store()
    assert [mail.email("acme", email_id).source for email_id in (1, 2)] == ["captured", "captured"]
