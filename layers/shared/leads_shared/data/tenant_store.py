"""DynamoDB access for a tenant's settings: one item, ``TENANT#<t>`` / ``SETTINGS``, created once
and then only replaced on condition that its version did not change."""

from __future__ import annotations

from typing import Any

from leads_shared.data.dynamo import TableStore, to_item
from leads_shared.data.writes import ConditionFailed, replace_if_version, transient_retries
from leads_shared.keys import TenantKeys
from leads_shared.models.tenant import TenantSettings


def settings_to_item(settings: TenantSettings) -> dict[str, Any]:
    keys = TenantKeys.settings(settings.tenant_id)
    return to_item({**settings.model_dump(), **keys, "entity": "tenant_settings"})


class TenantStore(TableStore):
    def settings(self, tenant_id: str) -> TenantSettings | None:
        """The tenant's settings (one consistent GetItem: a rotated token is gone at once), or None
        before their first use."""
        found = self.get_values(TenantKeys.settings(tenant_id))
        return TenantSettings.model_validate(found) if found else None

    def create(self, settings: TenantSettings) -> bool:
        """Write the first settings of a tenant, on condition that it has none: False (nothing
        written) when another writer created them first."""
        put = {
            "TableName": self.table,
            "Item": settings_to_item(settings),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        try:
            transient_retries(lambda: self.client.put_item(**put))
        except ConditionFailed:
            return False
        return True

    def replace(self, before: TenantSettings, after: TenantSettings) -> None:
        """Write ``after`` if the stored version is still ``before.version`` (``VersionConflict``
        otherwise)."""
        replace_if_version(self.client, self.table, settings_to_item(after), before.version)
