"""Lambda SnapStart (template.yaml: `SnapStart: ApplyOn: PublishedVersions` on every API function).

Lambda initialises a published version once, snapshots the process, and starts each new
execution environment from a copy of that snapshot: imports are paid when the version is
published, not on a user's first request (the REPORT log line shows `Restore Duration` instead
of `Init Duration`).

Before the snapshot (``prime``) we build what a first request would otherwise build: the AWS
clients (botocore's service models; no request is made, so no connection is kept in the
snapshot), the modules a plain cold start imports on first use (``PRIMED_MODULES``), every
model's validator (built on first use otherwise: ``models.common.Model``) and the resolver's
validation of each route (the OpenAPI schema walks every route).

After a restore (``reset``), what must not be shared between copies of one snapshot: the random
generator's state (restored copies would draw the same retry jitter), callers remembered with
the snapshot's monotonic clock (meaningless on another host), and cached signing keys.

``snapshot_restore_py`` is part of Lambda's Python runtime (3.12+); elsewhere, and when it is not
installed, there is no snapshot and nothing to register.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from leads_shared import auth
from leads_shared.data import STORE_MODULES
from leads_shared.models.common import Model

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

Register = Callable[..., Any]
# What a plain cold start imports only when a request needs it (the meta function: none of it,
# nor boto3), and the snapshot holds: email-validator (the first address checked), Powertools'
# idempotency (the first Idempotency-Key), every store (the first use of each) and the identity
# cache that reset() clears.
PRIMED_MODULES = (
    "email_validator",
    "aws_lambda_powertools.utilities.idempotency",
    "leads_shared.identity",
    *STORE_MODULES,
)


def _registrations() -> tuple[Register, Register] | None:
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # not on Lambda: no snapshot will be taken
        return None
    return register_before_snapshot, register_after_restore


def prepare(app: APIGatewayRestResolver) -> None:
    """Register ``prime(app)`` before the snapshot and ``reset()`` after each restore."""
    registrations = _registrations()
    if registrations is not None:
        before_snapshot, after_restore = registrations
        before_snapshot(prime, app)
        after_restore(reset)


def prime(app: APIGatewayRestResolver) -> None:
    for module in PRIMED_MODULES:
        importlib.import_module(module)
    from leads_shared.data import blob_store, dynamo  # imported by the stores already

    dynamo.dynamodb_client()
    blob_store.s3_client()
    pending: list[type[Model]] = [Model]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if not model.__pydantic_complete__:
            model.model_rebuild()
    app.get_openapi_schema()


def reset() -> None:
    # Imported here: the identity module brings the directory store and boto3, which the meta
    # function never uses (prime() has imported it into the snapshot).
    from leads_shared import identity

    random.seed()
    identity.remembered.clear()
    auth.forget_signing_keys()
