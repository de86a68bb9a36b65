"""SCIM conformance: scim2-tester's checks (RFC 7643/7644) against the local stack over real HTTP,
with a SCIM token issued through the API. Every check that does not pass is listed here with its
reason (the README's SCIM section has the same list): a new failure fails this test, and so does
a listed one that no longer happens (the list must stay true)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import requests
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server, filling
from scim2_tester.checkers import patch_add, patch_replace

from tests.e2e.conftest import bearer, token_for

pytestmark = pytest.mark.e2e

TIMEOUT_S = 30
PASSED = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}

# (resource type or None, the check's title, a pattern of its reason) -> why it does not pass.
NAME = (
    "our user has one name: displayName, name.formatted and givenName + familyName all read it "
    "(written, the first of them that is given or changed wins), so values made up independently "
    "for each cannot all come back"
)
EMAILS = (
    "userName is the user's email and wins over emails[]: emails reads back as the userName, not "
    "the made-up address"
)
ALWAYS = "a user always has a name, an email and a state here: removing them leaves what we have"
MEMBER_DISPLAY = (
    "members[].display is the member's name as our directory has it (a team has no label of its "
    "own per member), not the made-up value"
)
SEARCH = (
    "POST /.search across resource types (RFC 7644 §3.4.3, a MAY) is not served: it answers 501, "
    "and the tester skips; lists are GET with a filter"
)
EXPLAINED: dict[tuple[str | None, str, str], str] = {
    ("User", "search_with_attributes", r"POST /\.search"): SEARCH,
    ("Group", "search_with_attributes", r"POST /\.search"): SEARCH,
    ("Group", "check_add_attribute", r"'members'"): MEMBER_DISPLAY,
    ("Group", "check_replace_attribute", r"'members'"): MEMBER_DISPLAY,
    ("User", "check_replace_attribute", r"'name'"): NAME,
    ("User", "check_replace_attribute", r"'emails'"): EMAILS,
    ("User", "check_add_attribute", r"'name'"): NAME,
    ("User", "check_add_attribute", r"'emails'"): EMAILS,
    ("User", "check_remove_attribute", r"'name'|'displayName'|'emails'|'active'"): ALWAYS,
}


@pytest.fixture
def userNames_are_emails(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """scim2-tester makes up a userName as a random UUID; here userName is the user's email, so
    it must be an address: the made-up value gets a domain. Nothing else is changed."""
    original = filling.generate_random_value

    def generate(context: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        value = original(context, path, *args, **kwargs)
        if str(path).split(":")[-1] == "userName" and isinstance(value, str) and "@" not in value:
            value = f"{value}@scim-tester.example.com"
        return value

    for module in (filling, patch_add, patch_replace):
        monkeypatch.setattr(module, "generate_random_value", generate)
    yield


def scim_token(base_url: str) -> str:
    """A SCIM token of a tenant of its own (its admin signs in first: the tenant exists)."""
    tenant = f"scim-{uuid.uuid4().hex[:8]}"
    admin = bearer(token_for(1, tenant, role="admin", team_id=None))
    assert requests.get(f"{base_url}/me", headers=admin, timeout=TIMEOUT_S).status_code == 200
    issued = requests.post(f"{base_url}/tenant/scim-token", headers=admin, timeout=TIMEOUT_S)
    assert issued.status_code == 201, issued.text
    return str(issued.json()["token"])


def explanation(result: Any) -> str | None:
    for (resource_type, title, pattern), why in EXPLAINED.items():
        if (
            result.resource_type == resource_type
            and result.title == title
            and re.search(pattern, result.reason or "")
        ):
            return why
    return None


def test_scim2_tester_leaves_no_failure_unexplained(base_url: str, userNames_are_emails: None) -> None:
    token = scim_token(base_url)
    http = httpx2.Client(
        base_url=f"{base_url}/scim/v2", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_S
    )
    with http:
        results = check_server(SyncSCIMClient(http))

    assert len(results) > 50, [r.title for r in results]
    not_passed = [result for result in results if result.status not in PASSED]
    unexplained = [
        f"{r.resource_type} {r.title} {r.status.name}: {r.reason}"
        for r in not_passed
        if explanation(r) is None
    ]
    assert not unexplained, "\n".join(unexplained)
    seen = {key for key in EXPLAINED for r in not_passed if explanation(r) == EXPLAINED[key]}
    assert seen == set(EXPLAINED), f"listed but no longer failing: {set(EXPLAINED) - seen}"
