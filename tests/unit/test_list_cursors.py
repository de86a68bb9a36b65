"""The cursors of GET /leads: signed, bound to their query, expiring (``leads_shared.list_cursors``)."""

from __future__ import annotations

import pytest

from leads_shared import list_cursors
from leads_shared.config import Settings
from leads_shared.errors import ValidationFailed
from leads_shared.list_cursors import ListPosition

POSITION = ListPosition("sort", "ann\x01smith\x01000000000007", 7, 25)
SECRET = "s" * 32


def settings(**values) -> Settings:
    return Settings(table_name="t", **values)


def refusal(cursor: str, bound: str, config: Settings, now: float = 1_000) -> str:
    with pytest.raises(ValidationFailed) as refused:
        list_cursors.read(cursor, bound, config, now=now)
    return refused.value.errors["cursor"][0]


def test_a_cursor_reads_back_its_position_until_it_expires():
    config = settings(list_cursor_secret=SECRET)
    cursor = list_cursors.issue(POSITION, "q1", config, now=1_000)
    assert cursor is not None
    assert list_cursors.read(cursor, "q1", config, now=1_000 + 3599) == POSITION
    assert refusal(cursor, "q1", config, now=1_000 + 3600) == list_cursors.EXPIRED
    assert refusal(cursor, "q2", config) == list_cursors.ANOTHER_QUERY


def test_the_binding_covers_tenant_user_and_filters():
    one = list_cursors.binding("acme", 2, {"status": "new"})
    assert one == list_cursors.binding("acme", 2, {"status": "new"})
    assert len({one, list_cursors.binding("globex", 2, {"status": "new"}),
                list_cursors.binding("acme", 3, {"status": "new"}),
                list_cursors.binding("acme", 2, {"status": None})}) == 4  # fmt: skip


def test_another_deployments_secret_or_an_altered_cursor_is_invalid():
    cursor = list_cursors.issue(POSITION, "q", settings(list_cursor_secret=SECRET), now=1_000)
    assert cursor is not None
    assert refusal(cursor, "q", settings(list_cursor_secret="t" * 32)) == list_cursors.INVALID
    payload, signature = cursor.split(".")
    config = settings(list_cursor_secret=SECRET)
    assert refusal(payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature, "q", config) == (
        list_cursors.INVALID
    )
    assert refusal("", "q", config) == list_cursors.INVALID


def test_the_key_falls_back_to_one_derived_from_the_jwt_secret_or_there_are_no_cursors():
    derived = settings(jwt_secret="local-dev-secret")
    cursor = list_cursors.issue(POSITION, "q", derived, now=1_000)
    assert cursor is not None and list_cursors.read(cursor, "q", derived, now=1_000) == POSITION
    # never signed with the token secret itself
    assert refusal(cursor, "q", settings(list_cursor_secret="local-dev-secret" * 2)) == list_cursors.INVALID
    none = settings(jwt_jwks_url="https://idp.example.com/jwks")
    assert list_cursors.issue(POSITION, "q", none) is None
    assert refusal("x.y", "q", none) == list_cursors.NOT_CONFIGURED
