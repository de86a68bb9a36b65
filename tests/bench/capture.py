"""What AWS calls a request makes, and the same calls again from a bare client: the baseline of
the cold-start and warm-overhead figures.

``recording()`` registers on the data layer's own clients (botocore's ``provide-client-params``
event, which sees each call's parameters as the code passed them) and keeps every call; the
DynamoDB ones are then replayed, as they were, with a plain ``boto3`` client. A replayed
conditional write whose condition no longer holds (the request already made the change) fails
like the original would have, and costs the emulator the same request; the failures are counted
so the tables can say so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError

from leads_shared.data.blob_store import s3_client
from leads_shared.data.dynamo import dynamodb_client


@dataclass(frozen=True)
class AwsCall:
    service: str  # "dynamodb" or "s3"
    operation: str  # botocore's name: GetItem, Query, PutObject...
    params: dict[str, Any]


@dataclass
class Recording:
    calls: list[AwsCall] = field(default_factory=list)

    def dynamodb(self) -> list[AwsCall]:
        return [call for call in self.calls if call.service == "dynamodb"]

    def others(self) -> list[AwsCall]:
        return [call for call in self.calls if call.service != "dynamodb"]


@contextmanager
def recording() -> Iterator[Recording]:
    """Every call the data layer's DynamoDB and S3 clients make inside the block: DynamoDB calls
    with their parameters (``provide-client-params``), S3 ones by name only, and only those
    sent (``before-call``: a presigned URL or form is signed locally and is no call)."""
    recorded = Recording()

    def keep_dynamodb(params: dict[str, Any], model: Any, **_: Any) -> None:
        recorded.calls.append(AwsCall("dynamodb", model.name, dict(params)))

    def keep_s3(model: Any, **_: Any) -> None:
        recorded.calls.append(AwsCall("s3", model.name, {}))

    hooks = [
        (dynamodb_client(), "provide-client-params.dynamodb", keep_dynamodb),
        (s3_client(), "before-call.s3", keep_s3),
    ]
    for client, event, handler in hooks:
        client.meta.events.register(event, handler)
    try:
        yield recorded
    finally:
        for client, event, handler in hooks:
            client.meta.events.unregister(event, handler)


def replay(client: Any, calls: Sequence[AwsCall]) -> tuple[float, int]:
    """Make ``calls`` again with ``client``: (seconds taken, how many were refused)."""
    refused = 0
    started = time.perf_counter()
    for call in calls:
        try:
            getattr(client, xform_name(call.operation))(**call.params)
        except ClientError:
            refused += 1
    return time.perf_counter() - started, refused


def describe(calls: Sequence[AwsCall]) -> str:
    """``GetItem, 2 Query`` (in the order first made)."""
    counts: dict[str, int] = {}
    for call in calls:
        name = call.operation if call.service == "dynamodb" else f"{call.service}:{call.operation}"
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(name if n == 1 else f"{n} {name}" for name, n in counts.items()) or "none"
