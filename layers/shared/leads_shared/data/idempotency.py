"""``Idempotency-Key`` for writes that must not happen twice (qualify), with Powertools'
idempotency utility persisted in the leads table itself: one item per key, under the tenant's
own ``TENANT#<t>#IDEMPOTENCY`` partition, expiring (TTL ``expires_at``) after 24 hours.

A retried call with the same key and body gets the first call's answer without doing it again;
the same key with another body is a 422; a call while the first is still running is a 409. A
call that fails leaves no record, so its retry runs again.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from leads_shared.config import get_settings
from leads_shared.data.dynamo import dynamodb_client
from leads_shared.errors import Conflict, ServiceUnavailable, ValidationFailed
from leads_shared.keys import IdempotencyKeys

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

KEEP_SECONDS = 24 * 3600
HEADER = "Idempotency-Key"


@lru_cache(maxsize=128)
def _persistence(tenant_id: str) -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=get_settings().table_name,
        key_attr=IdempotencyKeys.PK_ATTRIBUTE,
        sort_key_attr=IdempotencyKeys.SK_ATTRIBUTE,
        static_pk_value=IdempotencyKeys.partition(tenant_id),
        expiry_attr="expires_at",
        boto3_client=dynamodb_client(),
    )


def run_once(
    tenant_id: str,
    scope: dict[str, Any],
    payload: dict[str, Any],
    action: Callable[[], dict[str, Any]],
    lambda_context: Any = None,
) -> dict[str, Any]:
    """Run ``action`` once per ``scope`` (the operation, its target and the client's key);
    ``payload`` (the request body) must be the same on every retry."""
    # Imported here: Powertools' idempotency utility is for the writes that take a key, not for
    # the import of every module that names HEADER (the function's cold start).
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    config = IdempotencyConfig(
        event_key_jmespath="scope",
        payload_validation_jmespath="payload",
        expires_after_seconds=KEEP_SECONDS,
        hash_function="sha256",
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    @idempotent_function(
        data_keyword_argument="request",
        persistence_store=_persistence(tenant_id),
        config=config,
        key_prefix=str(scope.get("operation", "op")),
    )
    def once(request: dict[str, Any]) -> dict[str, Any]:
        return action()

    try:
        result: dict[str, Any] = once(request={"scope": scope, "payload": payload})
    except IdempotencyAlreadyInProgressError:
        raise Conflict(f"A request with this {HEADER} is still in progress. Retry shortly.") from None
    except IdempotencyValidationError:
        raise ValidationFailed(
            {HEADER: [f"This {HEADER} was already used with a different request body."]}
        ) from None
    except IdempotencyPersistenceLayerError as exc:
        raise ServiceUnavailable("The service is busy. Please retry shortly.") from exc
    return result
