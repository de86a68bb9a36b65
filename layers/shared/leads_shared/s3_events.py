"""S3 event notifications (the body of an SQS message from a bucket): the objects they name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    size: int | None


def created_objects(notification: dict[str, Any]) -> list[StoredObject]:
    """The objects an S3 event notification (the body of an SQS message) says were created.
    S3 URL-encodes keys in events; S3's test event (sent when notifications are set up) has none."""
    found = []
    for record in notification.get("Records") or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        size = s3["object"].get("size")
        found.append(
            StoredObject(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(s3["object"]["key"]),
                size=int(size) if size is not None else None,
            )
        )
    return found
