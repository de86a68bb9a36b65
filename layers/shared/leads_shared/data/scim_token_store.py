"""DynamoDB access for the tenants' SCIM tokens: only their sha256 hashes are stored."""

from __future__ import annotations

from typing import Any

from leads_shared.data.dynamo import TableStore, av, to_item
from leads_shared.data.writes import ConditionFailed, transient_retries
from leads_shared.keys import ScimTokenKeys


class TokenChanged(Exception):
    """Another token was issued for the tenant since its current one was read."""


class ScimTokenStore(TableStore):
    def current_hash(self, tenant_id: str) -> str | None:
        """The hash of the tenant's current token (None: it never had one)."""
        found = self.get_values(ScimTokenKeys.tenant(tenant_id))
        return str(found["token_hash"]) if found else None

    def tenant_of(self, token_hash: str) -> str | None:
        """Whose current token has this hash (one GetItem); None for a revoked or unknown one."""
        found = self.get_values(ScimTokenKeys.lookup(token_hash))
        return str(found["tenant_id"]) if found else None

    def put_token(self, tenant_id: str, token_hash: str, created_at: str) -> None:
        """Make a token the tenant's as it is, unconditionally (demo data)."""
        self.batch_write(
            [
                {
                    "PutRequest": {
                        "Item": to_item(
                            {
                                **ScimTokenKeys.tenant(tenant_id),
                                "entity": "scim_token",
                                "token_hash": token_hash,
                                "created_at": created_at,
                            }
                        )
                    }
                },
                {
                    "PutRequest": {
                        "Item": to_item(
                            {
                                **ScimTokenKeys.lookup(token_hash),
                                "entity": "scim_token_lookup",
                                "tenant_id": tenant_id,
                                "created_at": created_at,
                            }
                        )
                    }
                },
            ]
        )

    def swap(self, tenant_id: str, before: str | None, after: str, created_at: str) -> None:
        """Make ``after`` the tenant's token and revoke ``before``, in one transaction, on
        condition that ``before`` is still the current one (``TokenChanged`` otherwise)."""
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(PK)"}
            if before is None
            else {
                "ConditionExpression": "token_hash = :before",
                "ExpressionAttributeValues": {":before": av(before)},
            }
        )
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(
                        {
                            **ScimTokenKeys.tenant(tenant_id),
                            "entity": "scim_token",
                            "token_hash": after,
                            "created_at": created_at,
                        }
                    ),
                    **condition,
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(
                        {
                            **ScimTokenKeys.lookup(after),
                            "entity": "scim_token_lookup",
                            "tenant_id": tenant_id,
                            "created_at": created_at,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        if before is not None:
            items.append({"Delete": {"TableName": self.table, "Key": to_item(ScimTokenKeys.lookup(before))}})
        try:
            transient_retries(lambda: self.transact(items))
        except ConditionFailed as failed:
            raise TokenChanged() from failed
