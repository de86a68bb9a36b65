"""The local stack's reading of Lambda's FilterCriteria patterns (the subset it implements)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.devstack.event_filter import FilterPatternError, check_pattern, matches, passes


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
