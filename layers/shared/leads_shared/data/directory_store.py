"""DynamoDB access for a tenant's directory: users (with the markers that keep their email and
identity-provider subject unique), teams and deal stages, all under ``TENANT#<t>``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from leads_shared.data.dynamo import av, query_pages, store_errors, stored_values, to_item
from leads_shared.data.sequences import IdTaken, SequenceStore
from leads_shared.data.writes import ConditionFailed, VersionConflict, transient_retries
from leads_shared.keys import DirectoryKeys, tenant_pk
from leads_shared.models.directory import DealStage, Team, User


class Taken(Exception):
    """A unique value (``email``, ``external_id``) belongs to another user."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class TeamMissing(Exception):
    """The user's team does not exist (any more)."""


class StageInUse(Exception):
    """A deal is in the stage."""


def user_from_item(item: dict[str, Any]) -> User:
    return User.model_validate(stored_values(item))


def _user_item(user: User) -> dict[str, Any]:
    return to_item({**user.model_dump(), **DirectoryKeys.user(user.tenant_id, user.id), "entity": "user"})


def _marker_keys(user: User) -> dict[str, dict[str, str]]:
    """The unique values of a user: field name -> the key of its marker."""
    markers = {}
    if user.email:
        markers["email"] = DirectoryKeys.user_email(user.tenant_id, user.email)
    if user.external_id:
        markers["external_id"] = DirectoryKeys.external_id(user.tenant_id, user.external_id)
    return markers


NEW = "attribute_not_exists(PK)"


class DirectoryStore(SequenceStore):
    # ------------------------------------------------------------------ reads
    def _query_prefix(self, tenant_id: str, prefix: str) -> list[dict[str, Any]]:
        request = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": av(tenant_pk(tenant_id)), ":prefix": av(prefix)},
            "ConsistentRead": True,
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

    def _marked_user(self, tenant_id: str, key: dict[str, str]) -> User | None:
        marker = self.get_values(key)
        return self.user(tenant_id, int(marker["user_id"])) if marker else None

    def user_with_email(self, tenant_id: str, email: str) -> User | None:
        return self._marked_user(tenant_id, DirectoryKeys.user_email(tenant_id, email))

    def user_with_external_id(self, tenant_id: str, external_id: str) -> User | None:
        return self._marked_user(tenant_id, DirectoryKeys.external_id(tenant_id, external_id))

    def user_of_subject(self, tenant_id: str, subject: str, user_id: int | None) -> User | None:
        """The user a token's subject names: the one whose external id it is, else (an integer
        subject) the user with that id. One request when that finds the user, two when the
        subject is another user's external id."""
        marker_key = DirectoryKeys.external_id(tenant_id, subject)
        keys = [marker_key] + ([DirectoryKeys.user(tenant_id, user_id)] if user_id is not None else [])
        marker, by_id = None, None
        for item in self.batch_get(keys, consistent=True):
            if item["SK"]["S"] == marker_key["SK"]:
                marker = stored_values(item)
            else:
                by_id = user_from_item(item)
        if marker is None:
            return by_id
        if by_id is not None and by_id.id == int(marker["user_id"]):
            return by_id
        return self.user(tenant_id, int(marker["user_id"]))

    def teams(self, tenant_id: str) -> list[Team]:
        return [Team.model_validate(v) for v in self._query_prefix(tenant_id, DirectoryKeys.TEAM)]

    def team(self, tenant_id: str, team_id: int) -> Team | None:
        found = self.get_values(DirectoryKeys.team(tenant_id, team_id))
        return Team.model_validate(found) if found else None

    def stages(self, tenant_id: str) -> list[DealStage]:
        """The tenant's deal stages by position (ties by id)."""
        rows = self._query_prefix(tenant_id, DirectoryKeys.STAGE)
        return sorted((DealStage.model_validate(v) for v in rows), key=lambda s: (s.position, s.id))

    def stage(self, tenant_id: str, stage_id: int) -> DealStage | None:
        found = self.get_values(DirectoryKeys.stage(tenant_id, stage_id))
        return DealStage.model_validate(found) if found else None

    # ------------------------------------------------------------------ writes
    def _transact(self, items: list[dict[str, Any]], meanings: Sequence[type[Exception] | Exception]) -> None:
        """One write (a transaction when there are several items); the exception of the first
        item whose condition failed is raised (``meanings`` in the order of ``items``)."""
        if len(items) == 1:
            ((operation, request),) = items[0].items()
            method = {
                "Put": self.client.put_item,
                "Delete": self.client.delete_item,
                "Update": self.client.update_item,
            }[operation]

            def call() -> Any:
                return method(**request)
        else:

            def call() -> Any:
                return self.transact(items)

        try:
            transient_retries(call)
        except ConditionFailed as failed:
            position = (failed.failed_items() or [0])[0]
            raise meanings[position] from failed

    def _put(self, item: dict[str, Any], condition: str | None = None, **values: Any) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table, "Item": item}
        if condition:
            put["ConditionExpression"] = condition
        if values:
            put["ExpressionAttributeValues"] = {name: av(value) for name, value in values.items()}
        return {"Put": put}

    def _marker(self, key: dict[str, str], user: User) -> dict[str, Any]:
        return self._put(to_item({**key, "user_id": user.id, "entity": "user_marker"}), NEW)

    def _team_exists(self, tenant_id: str, team_id: int) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": to_item(DirectoryKeys.team(tenant_id, team_id)),
                "ConditionExpression": "attribute_exists(PK)",
            }
        }

    def insert_user(self, user: User) -> None:
        """A new user with its markers, in one transaction: ``IdTaken`` when the id is taken,
        ``Taken(field)`` when another user has its email or external id, ``TeamMissing``."""
        items = [self._put(_user_item(user), NEW)]
        meanings: list[Exception] = [IdTaken()]
        for field, key in _marker_keys(user).items():
            items.append(self._marker(key, user))
            meanings.append(Taken(field))
        if user.team_id is not None:
            items.append(self._team_exists(user.tenant_id, user.team_id))
            meanings.append(TeamMissing())
        self._transact(items, meanings)

    def insert_new_user(self, user: User, finish: Callable[[User], User] | None = None) -> User:
        """``insert_user`` with the tenant's next free user id (``finish``: what the user gets
        once it has its id)."""

        def insert(user_id: int) -> User:
            numbered = user.model_copy(update={"id": user_id})
            if finish is not None:
                numbered = finish(numbered)
            self.insert_user(numbered)
            return numbered

        return self.with_new_id(user.tenant_id, "user", insert)

    def replace_user(self, before: User, after: User) -> None:
        """``after`` over ``before`` if it is still at ``before.version``, moving the markers of
        a changed email or external id (``VersionConflict``, ``Taken(field)``, ``TeamMissing``)."""
        items = [self._put(_user_item(after), "version = :v", **{":v": before.version})]
        meanings: list[Exception] = [VersionConflict()]
        old, new = _marker_keys(before), _marker_keys(after)
        for field in ("email", "external_id"):
            if old.get(field) == new.get(field):
                continue
            if field in old:
                items.append(
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": to_item(old[field]),
                            # a marker of another user is not ours to remove
                            "ConditionExpression": "attribute_not_exists(PK) OR user_id = :id",
                            "ExpressionAttributeValues": {":id": av(before.id)},
                        }
                    }
                )
                meanings.append(Taken(field))
            if field in new:
                items.append(self._marker(new[field], after))
                meanings.append(Taken(field))
        if after.team_id is not None and after.team_id != before.team_id:
            items.append(self._team_exists(after.tenant_id, after.team_id))
            meanings.append(TeamMissing())
        self._transact(items, meanings)

    def put_user(self, user: User) -> None:
        """Write a user and its markers as they are, unconditionally (demo data, test set-up)."""
        markers = [
            {"PutRequest": {"Item": to_item({**key, "user_id": user.id, "entity": "user_marker"})}}
            for key in _marker_keys(user).values()
        ]
        self.batch_write([{"PutRequest": {"Item": _user_item(user)}}, *markers])

    def put_team(self, team: Team) -> None:
        """Write a team as it is (demo data, test set-up)."""
        self.batch_write([{"PutRequest": {"Item": self._team_item(team)}}])

    def put_stage(self, stage: DealStage) -> None:
        """Write a deal stage as it is (demo data, test set-up)."""
        self.batch_write([{"PutRequest": {"Item": self._stage_item(stage)}}])

    @staticmethod
    def _team_item(team: Team) -> dict[str, Any]:
        return to_item({**team.model_dump(), **DirectoryKeys.team(team.tenant_id, team.id), "entity": "team"})

    @staticmethod
    def _stage_item(stage: DealStage) -> dict[str, Any]:
        keys = DirectoryKeys.stage(stage.tenant_id, stage.id)
        return to_item({**stage.model_dump(), **keys, "entity": "deal_stage"})

    def insert_new_team(self, team: Team) -> Team:
        def insert(team_id: int) -> Team:
            numbered = team.model_copy(update={"id": team_id})
            self._transact([self._put(self._team_item(numbered), NEW)], [IdTaken()])
            return numbered

        return self.with_new_id(team.tenant_id, "team", insert)

    def replace_team(self, before: Team, after: Team) -> None:
        put = self._put(self._team_item(after), "version = :v", **{":v": before.version})
        self._transact([put], [VersionConflict()])

    def delete_team(self, team: Team) -> None:
        key = to_item(DirectoryKeys.team(team.tenant_id, team.id))
        delete = {
            "Delete": {
                "TableName": self.table,
                "Key": key,
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": av(team.version)},
            }
        }
        self._transact([delete], [VersionConflict()])

    def insert_new_stage(self, stage: DealStage) -> DealStage:
        def insert(stage_id: int) -> DealStage:
            numbered = stage.model_copy(update={"id": stage_id})
            self._transact([self._put(self._stage_item(numbered), NEW)], [IdTaken()])
            return numbered

        return self.with_new_id(stage.tenant_id, "stage", insert)

    def replace_stage(self, before: DealStage, after: DealStage) -> None:
        # `deal_count` is kept by qualifying: an update, so that it is not overwritten
        names = {"#n": "name", "#p": "position", "#pr": "probability", "#k": "kind", "#v": "version"}
        values = {
            ":n": av(after.name),
            ":p": av(after.position),
            ":k": av(after.kind),
            ":v": av(after.version),
            ":before": av(before.version),
        }
        expression = "SET #n = :n, #p = :p, #k = :k, #v = :v"
        if after.probability is None:
            expression += " REMOVE #pr"
        else:
            expression += ", #pr = :pr"
            values[":pr"] = av(after.probability)
        update = {
            "Update": {
                "TableName": self.table,
                "Key": to_item(DirectoryKeys.stage(after.tenant_id, after.id)),
                "UpdateExpression": expression,
                "ConditionExpression": "#v = :before",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }
        self._transact([update], [VersionConflict()])

    def delete_stage(self, stage: DealStage) -> None:
        """Delete the stage unless a deal is in it (``StageInUse``) or it changed."""
        delete = {
            "Delete": {
                "TableName": self.table,
                "Key": to_item(DirectoryKeys.stage(stage.tenant_id, stage.id)),
                "ConditionExpression": (
                    "version = :v AND (attribute_not_exists(deal_count) OR deal_count = :zero)"
                ),
                "ExpressionAttributeValues": {":v": av(stage.version), ":zero": av(0)},
            }
        }
        try:
            self._transact([delete], [VersionConflict()])
        except VersionConflict:
            current = self.stage(stage.tenant_id, stage.id)
            if current is not None and current.version == stage.version:
                raise StageInUse() from None
            raise

    def create_pipeline(self, tenant_id: str, stages: Sequence[DealStage]) -> bool:
        """The tenant's first pipeline, once: the stages with a marker, in one transaction. False
        when the tenant had one already (another caller made it first)."""
        ids = self.reserve_block(tenant_id, "stage", len(stages))
        marker = self._put(to_item({**DirectoryKeys.pipeline(tenant_id), "entity": "pipeline"}), NEW)
        items = [marker] + [
            self._put(self._stage_item(stage.model_copy(update={"id": stage_id})), NEW)
            for stage, stage_id in zip(stages, ids, strict=True)
        ]
        try:
            self._transact(items, [ConditionFailed()] * len(items))
        except ConditionFailed:
            return False
        return True


def deal_added(table: str, tenant_id: str, stage_id: int) -> dict[str, Any]:
    """The transaction item that counts a new deal in a stage, on condition that the stage
    still exists (qualifying writes it with the deal: ``LeadStore.convert``)."""
    return {
        "Update": {
            "TableName": table,
            "Key": to_item(DirectoryKeys.stage(tenant_id, stage_id)),
            "UpdateExpression": "ADD deal_count :one",
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeValues": {":one": av(1)},
        }
    }
