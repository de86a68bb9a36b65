"""Timestamps in the API's format: ``2026-01-15T09:30:00.000000Z`` (UTC, microseconds)."""

from __future__ import annotations

from datetime import UTC, datetime

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def utc_now() -> str:
    return format_timestamp(datetime.now(UTC))
