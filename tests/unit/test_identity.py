"""Who a token is: just-in-time provisioning, claims the directory follows, the per-container
memory, deactivation (against the in-memory directory; the emulator proves the store)."""

from __future__ import annotations

import pytest

from leads_shared.auth import Identity
from leads_shared.errors import Deactivated
from leads_shared.identity import remembered, resolve
from leads_shared.models.directory import Team, User
from tests.support.fake_directory import FakeDirectory

TTL = 60


@pytest.fixture(autouse=True)
def forget_callers():
    remembered.clear()
    yield
    remembered.clear()


@pytest.fixture
def directory() -> FakeDirectory:
    return FakeDirectory()


def okta(subject: str = "00u1abcdEFGH2345x697", **claims) -> Identity:
    return Identity(tenant_id="newco", subject=subject, **claims)


def test_a_new_subject_gets_the_next_user_id_with_the_token_claims(directory):
    first = resolve(okta(role="admin", name="Ann Lee", email="ann@newco.com"), directory, TTL)
    second = resolve(okta("8f14e45f-ceea-467f-a8a8-3b1a2c3d4e5f", email="bo@newco.com"), directory, TTL)

    assert (first.user_id, first.role, first.name, first.email) == (1, "admin", "Ann Lee", "ann@newco.com")
    assert (second.user_id, second.role, second.name) == (2, "user", "bo@newco.com")  # no name: the email
    assert directory.user("newco", 1).external_id == "00u1abcdEFGH2345x697"


def test_without_name_or_email_the_user_is_named_by_id(directory):
    assert resolve(okta(), directory, TTL).name == "User 1"


def test_an_integer_subject_keeps_meaning_that_user_id(directory):
    directory.insert_user(User(tenant_id="newco", id=7, name="Seven", email="seven@newco.com"))
    assert resolve(okta("7", user_id=7), directory, TTL).name == "Seven"
    # and a first integer subject is made with that very id
    assert resolve(okta("42", user_id=42), directory, TTL).user_id == 42


def test_ids_given_out_by_hand_are_skipped(directory):
    for user_id in (1, 2):
        directory.insert_user(User(tenant_id="newco", id=user_id, name=f"U{user_id}"))
    assert resolve(okta(), directory, TTL).user_id == 3


def test_a_caller_seen_with_the_same_claims_costs_nothing(directory):
    identity = okta(name="Ann")
    resolve(identity, directory, TTL)
    reads, writes = directory.reads, directory.writes

    again = resolve(identity, directory, TTL)

    assert again.user_id == 1 and (directory.reads, directory.writes) == (reads, writes)


def test_the_record_follows_changed_claims_and_writes_only_then(directory):
    directory.put_team(Team(tenant_id="newco", id=3, name="EMEA"))
    resolve(okta(name="Ann", role="user"), directory, TTL)
    writes = directory.writes

    principal = resolve(okta(name="Ann Smith", role="admin", team_id=3), directory, TTL)

    stored = directory.user("newco", 1)
    assert (stored.name, stored.role, stored.team_id) == ("Ann Smith", "admin", 3)
    assert principal.is_admin and directory.writes == writes + 1
    remembered.clear()
    resolve(okta(name="Ann Smith", role="admin", team_id=3), directory, TTL)
    assert directory.writes == writes + 1  # same claims: read, nothing written


def test_the_role_is_the_tokens_when_it_has_one_else_the_directorys(directory):
    directory.insert_user(User(tenant_id="newco", id=1, name="Ann", role="admin", external_id="ann"))
    assert resolve(okta("ann"), directory, TTL).role == "admin"
    assert resolve(okta("ann", role="user"), directory, TTL).role == "user"


def test_a_team_that_is_not_in_the_directory_is_not_stored(directory):
    principal = resolve(okta(team_id=9), directory, TTL)
    assert directory.user("newco", principal.user_id).team_id is None
    assert principal.team_id == 9  # the token's own claim still scopes its requests, as before


def test_a_deactivated_user_is_refused_within_the_memory_time(directory):
    identity = okta(name="Ann")
    resolve(identity, directory, TTL)
    user = directory.user("newco", 1)
    directory.replace_user(user, user.model_copy(update={"active": False, "version": 2}))

    resolve(identity, directory, TTL)  # remembered: still in, until the memory expires
    remembered.clear()
    with pytest.raises(Deactivated) as refused:
        resolve(identity, directory, TTL)
    assert refused.value.message == "This account is deactivated."
    assert directory.user("newco", 1).name == "Ann"  # kept, not removed


def test_an_admin_created_user_is_linked_on_first_sign_in_by_email(directory):
    directory.insert_user(User(tenant_id="newco", id=5, name="Dana", email="dana@newco.com"))

    principal = resolve(okta("auth0|dana", email="Dana@newco.com"), directory, TTL)

    assert principal.user_id == 5
    assert directory.user("newco", 5).external_id == "auth0|dana"
    assert len(directory.users("newco")) == 1


def test_the_email_of_a_user_linked_to_another_subject_is_not_taken_over(directory):
    directory.insert_user(
        User(tenant_id="newco", id=5, name="Dana", email="dana@newco.com", external_id="auth0|dana")
    )

    principal = resolve(okta("auth0|impostor", email="dana@newco.com"), directory, TTL)

    assert principal.user_id != 5 and principal.email is None
    assert directory.user("newco", 5).external_id == "auth0|dana"
