"""The local stack's reading of Lambda's FilterCriteria patterns (the subset it implements)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devstack.event_filter import FilterPatternError, check_pattern, matches, passes
from devstack.template import Template


def stream_record(
    event_name: str = "MODIFY", entity: str | None = "user", **new_image: Any
) -> dict[str, Any]:
    image = {"PK": {"S": "TENANT#acme"}, **{k: {"S": v} for k, v in new_image.items()}}
    if entity is not None:
        image["entity"] = {"S": entity}
    return {"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": {"NewImage": image}}


def test_the_templates_own_pattern_lets_only_modified_user_items_through() -> None:
    (source,) = Template.load().stream_sources()
    patterns = source.filter_patterns

    assert passes(patterns, stream_record("MODIFY", "user", name="Robert"))
    assert not passes(patterns, stream_record("INSERT", "user"))
    assert not passes(patterns, stream_record("REMOVE", "user"))
    assert not passes(patterns, stream_record("MODIFY", "lead"))
    assert not passes(patterns, stream_record("MODIFY", None))  # no entity at all
    assert not passes(patterns, {"eventName": "MODIFY", "dynamodb": {}})  # keys only: no image


def test_literals_match_by_json_type_and_value() -> None:
    assert matches({"n": [5]}, {"n": 5.0})
    assert not matches({"n": [5]}, {"n": "5"})
    assert not matches({"flag": [True]}, {"flag": 1})
    assert matches({"v": [None]}, {"v": None})
    assert not matches({"v": [None]}, {})  # null matches a present null, not a missing field
    assert matches({"s": ["a", "b"]}, {"s": "b"})  # any of the list
    assert matches({"s": ["b"]}, {"s": ["a", "b"]})  # an event list: any of its items


def test_every_key_must_match_and_nested_objects_descend() -> None:
    pattern = {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"entity": {"S": ["user"]}}}}
    assert matches(pattern, {"eventName": "MODIFY", "dynamodb": {"NewImage": {"entity": {"S": "user"}}}})
    assert not matches(pattern, {"eventName": "MODIFY", "dynamodb": {"NewImage": {"entity": {"N": "1"}}}})
    assert not matches(pattern, {"dynamodb": {"NewImage": {"entity": {"S": "user"}}}})
    assert not matches(pattern, {"eventName": "MODIFY", "dynamodb": "not an object"})


def test_operators() -> None:
    assert matches({"k": [{"prefix": "USER#"}]}, {"k": "USER#000000002"})
    assert not matches({"k": [{"prefix": "USER#"}]}, {"k": "TEAM#1"})
    assert matches({"k": [{"anything-but": ["lead", "team"]}]}, {"k": "user"})
    assert not matches({"k": [{"anything-but": "lead"}]}, {"k": "lead"})
    assert not matches({"k": [{"anything-but": "lead"}]}, {})  # a missing field is not "anything"
    assert matches({"k": [{"exists": True}]}, {"k": "x"})
    assert not matches({"k": [{"exists": True}]}, {})
    assert matches({"a": {"b": [{"exists": False}]}}, {})  # absent, parents included
    assert not matches({"a": {"b": [{"exists": False}]}}, {"a": {"b": 1}})


def test_no_pattern_lets_everything_through_and_any_pattern_is_enough() -> None:
    assert passes([], {"anything": 1})
    assert passes([{"a": [1]}, {"b": [2]}], {"b": 2})
    assert not passes([{"a": [1]}, {"b": [2]}], {"c": 3})


@pytest.mark.parametrize(
    "pattern",
    [
        {"$or": [{"a": [1]}, {"b": [2]}]},
        {"a": [{"numeric": [">", 1]}]},
        {"a": [{"suffix": ".png"}]},
        {"a": [{"equals-ignore-case": "x"}]},
        {"a": [{"exists": "yes"}]},
        {"a": []},
        {"a": "user"},
        {},
    ],
    ids=json.dumps,
)
def test_syntax_it_does_not_implement_is_refused(pattern: dict[str, Any]) -> None:
    with pytest.raises(FilterPatternError):
        check_pattern(pattern)
