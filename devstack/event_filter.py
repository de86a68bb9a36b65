"""Lambda's event filtering (an event source mapping's `FilterCriteria`), for the local pollers.

A pattern is a JSON object whose keys name fields of the record: a nested object descends into
the field, a list says what the field's value may be (any of its items). A record passes a
mapping's filters when it matches any of its patterns (no filters: every record passes).

The subset implemented (what the template uses, and a little more): literal strings, numbers,
booleans and `null`; `{"exists": true|false}`; `{"prefix": "..."}`; `{"anything-but": value or
[values]}`. An event field holding a list matches when one of its items does. Anything else
(`$or`, `numeric`, `suffix`, `equals-ignore-case`, `wildcard`, ...) is refused by `check_pattern`
when the template is read, so the local stack never filters differently from Lambda unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

OPERATORS = frozenset({"exists", "prefix", "anything-but"})


class FilterPatternError(ValueError):
    """A pattern uses syntax this filter does not implement, or is not a valid pattern."""


def check_pattern(pattern: Any, path: str = "") -> None:
    """Raise FilterPatternError unless ``pattern`` uses only the syntax implemented here."""
    if not isinstance(pattern, dict) or not pattern:
        raise FilterPatternError(f"filter pattern {path or '(root)'}: expected a non-empty object")
    for key, condition in pattern.items():
        where = f"{path}.{key}" if path else key
        if key.startswith("$"):
            raise FilterPatternError(f"filter pattern {where}: {key} is not supported locally")
        if isinstance(condition, dict):
            check_pattern(condition, where)
        elif isinstance(condition, list) and condition:
            for item in condition:
                _check_condition(item, where)
        else:
            raise FilterPatternError(f"filter pattern {where}: expected an object or a non-empty list")


def _check_condition(item: Any, where: str) -> None:
    if item is None or isinstance(item, str | int | float | bool):
        return
    if not (isinstance(item, dict) and len(item) == 1):
        raise FilterPatternError(f"filter pattern {where}: {item!r} is not a value or an operator")
    ((operator, argument),) = item.items()
    if operator not in OPERATORS:
        raise FilterPatternError(f"filter pattern {where}: {operator!r} is not supported locally")
    if operator == "exists" and not isinstance(argument, bool):
        raise FilterPatternError(f"filter pattern {where}: exists takes true or false")
    if operator == "prefix" and not isinstance(argument, str):
        raise FilterPatternError(f"filter pattern {where}: prefix takes a string")
    if operator == "anything-but":
        values = argument if isinstance(argument, list) else [argument]
        if not values or not all(isinstance(v, str | int | float) for v in values):
            raise FilterPatternError(f"filter pattern {where}: anything-but takes a value or a list")


def passes(patterns: Sequence[Mapping[str, Any]], record: Mapping[str, Any]) -> bool:
    """Whether Lambda hands ``record`` to the function (any pattern matches; none: all pass)."""
    return not patterns or any(matches(pattern, record) for pattern in patterns)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Every key of ``pattern`` matches the same field of ``event``."""
    fields = event if isinstance(event, Mapping) else {}
    for key, condition in pattern.items():
        present = key in fields
        value = fields.get(key)
        if isinstance(condition, Mapping):
            if not matches(condition, value if present else {}):
                return False
        elif not any(_condition_holds(item, present, value) for item in condition):
            return False
    return True


def _condition_holds(condition: Any, present: bool, value: Any) -> bool:
    if isinstance(condition, dict):
        ((operator, argument),) = condition.items()
        if operator == "exists":
            return present is argument
        if not present:
            return False
        if operator == "prefix":
            return _any_item(value, lambda item: isinstance(item, str) and item.startswith(argument))
        excluded = argument if isinstance(argument, list) else [argument]  # anything-but
        return _any_item(value, lambda item: not any(_equal(item, other) for other in excluded))
    return present and _any_item(value, lambda item: _equal(item, condition))


def _any_item(value: Any, test: Any) -> bool:
    """An event field holding a list matches when one of its items does."""
    return any(test(item) for item in value) if isinstance(value, list) else bool(test(value))


def _equal(value: Any, literal: Any) -> bool:
    """JSON equality: numbers by value, everything else by type and value (True is not 1)."""
    numbers = (int, float)
    if isinstance(value, numbers) and isinstance(literal, numbers):
        if isinstance(value, bool) or isinstance(literal, bool):
            return value is literal
        return float(value) == float(literal)
    return type(value) is type(literal) and bool(value == literal)
