"""DynamoDB access for a tenant's users, teams and deal stages (all under ``TENANT#<t>``)."""

from __future__ import annotations

from typing import Any

from leads_shared.data.dynamo import TableStore, av, query_pages, store_errors, stored_values, to_item
from leads_shared.keys import DirectoryKeys, tenant_pk
from leads_shared.models.directory import DealStage, Team, User


def user_from_item(item: dict[str, Any]) -> User:
    return User.model_validate(stored_values(item))


class DirectoryStore(TableStore):
    def _query_prefix(self, tenant_id: str, prefix: str) -> list[dict[str, Any]]:
        request = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": av(tenant_pk(tenant_id)), ":prefix": av(prefix)},
        }
        with store_errors():
            return [
                stored_values(item)
                for page in query_pages(self.client, **request)
                for item in page.get("Items", [])
            ]

    def user(self, tenant_id: str, user_id: int) -> User | None:
        found = self.get_values(DirectoryKeys.user(tenant_id, user_id))
        return User.model_validate(found) if found else None

    def users(self, tenant_id: str) -> list[User]:
        return [User.model_validate(v) for v in self._query_prefix(tenant_id, DirectoryKeys.USER)]

    def teams(self, tenant_id: str) -> list[Team]:
        return [Team.model_validate(v) for v in self._query_prefix(tenant_id, DirectoryKeys.TEAM)]

    def stages(self, tenant_id: str) -> list[DealStage]:
        rows = self._query_prefix(tenant_id, DirectoryKeys.STAGE)
        return sorted((DealStage.model_validate(v) for v in rows), key=lambda s: s.position)

    def put_user(self, user: User) -> None:
        self._put(DirectoryKeys.user(user.tenant_id, user.id), user.model_dump(), "user")

    def put_team(self, team: Team) -> None:
        self._put(DirectoryKeys.team(team.tenant_id, team.id), team.model_dump(), "team")

    def put_stage(self, stage: DealStage) -> None:
        self._put(DirectoryKeys.stage(stage.tenant_id, stage.id), stage.model_dump(), "deal_stage")

    def _put(self, key: dict[str, str], values: dict[str, Any], entity: str) -> None:
        with store_errors():
            self.client.put_item(TableName=self.table, Item=to_item({**values, **key, "entity": entity}))
