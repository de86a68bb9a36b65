"""Schemathesis hooks of the contract fuzz test (loaded by the CLI through SCHEMATHESIS_HOOKS).

One check replaces schemathesis' ``positive_data_acceptance``, which wants every request the
document allows to succeed (2xx, 3xx, 401, 403, 404, 409). Two answers of ours depend on data,
not on the request's shape, so no schema can rule them out beforehand:

- ``412`` to a write whose ``If-Match`` is not the lead's current ETag (the fuzzer cannot know it);
- ``422`` whose every error is on a reference to a record of the tenant (``assigned_to`` must be a
  user of the tenant, ``contact_id``/``company_id``/``deal_id``/``deal_stage_id``/``team_id``
  records of it), each with our "The selected … is invalid." message, or on a value unique in the
  tenant that another user has ("The email has already been taken.");
- ``422`` on ``Idempotency-Key`` alone: the key was used before with another body (the fuzzer
  draws the same keys again);
- ``422`` on ``create_company`` alone when qualifying a lead that has no company name (the lead's
  data, not the request, decides);
- ``422`` on ``cursor`` alone: a list cursor is an opaque string the API signed for one tenant,
  caller and query (any string fits its schema; only one we issued is valid).
- ``422`` on ``date_to`` alone when the request's ``date_to`` is before its ``date_from`` (a rule
  across two query parameters, which JSON Schema cannot state).
- ``422`` on a merge's ``merge_ids`` naming the lead of its path (a rule across the path and the
  body), or on ``fields.<field>`` naming a lead that is not in the merge (across two parts of the
  body), with those rules' own messages.

And one the schema cannot state: email-validator refuses addresses at the special-use domains of
RFC 6761 (``.test``, ``.local``, ``.invalid``, ``.localhost``, ``.onion``, ``.arpa``), which JSON
Schema's ``format: email`` allows; a 422 on email fields of a request holding such an address is
accepted (last resort: a regex exclusion in the document would be unreadable to clients).

Every other rejection of schema-valid data still fails the run, through the original check:
a 422 about the shape of a field (a limit the document does not state) is a real mismatch.
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

REFERENCE_FIELDS = frozenset(
    {"assigned_to", "contact_id", "company_id", "deal_id", "deal_stage_id", "team_id", "owner_id"}
)
# Values unique in the tenant (a user's email and external id): taken by another user is data.
UNIQUE_FIELDS = frozenset({"email", "external_id"})
TAKEN = re.compile(r"The [a-z ]+ has already been taken\.")
NOT_A_RECORD = re.compile(r"The selected [a-z ]+ is invalid\.")
BAD_ADDRESS = re.compile(r"The [a-z ]+ must be a valid email address\.")
SPECIAL_USE = re.compile(r"@\S*\.(arpa|invalid|local|localhost|onion|test)\.?\s*$", re.IGNORECASE)
# The one 422 an Idempotency-Key gets for data, not shape: the key was used with another body.
IDEMPOTENCY_KEY_REUSED = "This Idempotency-Key was already used with a different request body."
NO_COMPANY_TO_CREATE = {"create_company": ["The lead has no company name to create a company from."]}
NOT_OUR_CURSOR = {"cursor": ["The cursor is invalid."]}
DATES_REVERSED = {"date_to": ["The date to field must be a date after or equal to date from."]}
# A lead form's rules across its parts, which JSON Schema cannot state: each lead field once, the
# first and last name present, a field's type fitting its lead field, a select with options, a
# consent field with its consent text (errors on `fields`, one of them, or the body).
FORM_RULE_FIELDS = re.compile(r"fields(\.\d+)?|body")
# A merge's rules across its path and body (leads_shared.merges.check_request).
MERGE_RULES = {
    "merge_ids": "A lead cannot be merged into itself.",
    "fields": "The lead must be the survivor or one of merge_ids.",
}


def _form_rule(response: Any, case: Any) -> bool:
    errors = _errors(response)
    return (
        str(case.path).startswith("/lead-forms")
        and bool(errors)
        and all(FORM_RULE_FIELDS.fullmatch(field) for field in errors)
    )


def _merge_rule(response: Any, case: Any) -> bool:
    errors = _errors(response)
    return (
        str(case.path).endswith("/merge")
        and bool(errors)
        and all(messages == [MERGE_RULES.get(field.split(".")[0])] for field, messages in errors.items())
    )


def _sent_if_match(case: Any) -> bool:
    return any(name.lower() == "if-match" for name in (case.headers or {}))


def _only_unknown_references(response: Any) -> bool:
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return False
    return (
        isinstance(errors, dict)
        and bool(errors)
        and set(errors) <= REFERENCE_FIELDS | UNIQUE_FIELDS
        and all(
            NOT_A_RECORD.fullmatch(message) or TAKEN.fullmatch(message)
            for messages in errors.values()
            for message in messages
        )
    )


def _errors(response: Any) -> dict[str, list[str]]:
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return {}
    return errors if isinstance(errors, dict) else {}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _special_use_address(response: Any, case: Any) -> bool:
    messages = [message for messages in _errors(response).values() for message in messages]
    return (
        bool(messages)
        and all(BAD_ADDRESS.fullmatch(message) for message in messages)
        and any(SPECIAL_USE.search(text) for text in _strings(case.body))
    )


def _dates_reversed(case: Any) -> bool:
    query = case.query or {}
    low, high = str(query.get("date_from") or "").strip(), str(query.get("date_to") or "").strip()
    return bool(low and high and high < low)


def answered_by_data(response: Any, case: Any) -> bool:
    """A rejection that depends on the tenant's data (or on a rule JSON Schema cannot state)."""
    if response.status_code == 412:
        return _sent_if_match(case)
    if response.status_code != 422:
        return False
    return (
        _only_unknown_references(response)
        or _errors(response) == {"Idempotency-Key": [IDEMPOTENCY_KEY_REUSED]}
        or _errors(response) == NO_COMPANY_TO_CREATE
        or _errors(response) == NOT_OUR_CURSOR
        or (_errors(response) == DATES_REVERSED and _dates_reversed(case))
        or _form_rule(response, case)
        or _merge_rule(response, case)
        or _special_use_address(response, case)
    )


@schemathesis.check
def positive_data_acceptance_unless_data_decides(ctx: Any, response: Any, case: Any) -> bool | None:
    if answered_by_data(response, case):
        return None
    if any(value is None for value in (case.path_parameters or {}).values()):
        # A stateful link fed a null id of an earlier answer (a lead's `company_id` before it is
        # qualified) into a path: `/companies/None` is not schema-valid data, and is a 422.
        return None
    return positive_data_acceptance(ctx, response, case)
