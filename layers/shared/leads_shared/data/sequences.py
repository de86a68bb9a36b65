"""The tenant's id sequences: one item (``SequenceKeys``) with a counter per kind of record, taken
with an atomic ``ADD``; and the rule for records whose ids may also have been given out by hand
(users of an identity provider's integer subjects, the demo data): take the next id, and take
another while the insert finds it taken."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from leads_shared.data.dynamo import TableStore, av, to_item
from leads_shared.data.writes import transient_retries
from leads_shared.errors import Conflict
from leads_shared.keys import SequenceKeys

# Ids tried before giving up (each taken one was written by hand, or by a lost race).
NEW_ID_ATTEMPTS = 20


class IdTaken(Exception):
    """The record's key exists already: take another id."""


class SequenceStore(TableStore):
    """The tenant's id sequences. The stores of numbered records (records, the directory) are
    sequence stores too: ``records.reserve(tenant, ["note"])``."""

    def reserve(self, tenant_id: str, kinds: Sequence[str]) -> dict[str, int]:
        """Take one new id of each kind (``note``, ``task``, ``user``, ...) in one atomic request.
        Two callers never get the same id; an id taken by a write that then fails is not reused
        (ids may have gaps, never repeats)."""
        names = {f"#k{i}": kind for i, kind in enumerate(kinds)}
        response = transient_retries(
            lambda: self.client.update_item(
                TableName=self.table,
                Key=to_item(SequenceKeys.primary(tenant_id)),
                UpdateExpression="ADD " + ", ".join(f"#k{i} :one" for i in range(len(kinds))),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":one": av(1)},
                ReturnValues="UPDATED_NEW",
            )
        )
        return {kind: int(response["Attributes"][kind]["N"]) for kind in kinds}

    def reserve_block(self, tenant_id: str, kind: str, count: int) -> list[int]:
        """``count`` consecutive new ids of one kind, in one atomic request."""
        response = transient_retries(
            lambda: self.client.update_item(
                TableName=self.table,
                Key=to_item(SequenceKeys.primary(tenant_id)),
                UpdateExpression="ADD #kind :count",
                ExpressionAttributeNames={"#kind": kind},
                ExpressionAttributeValues={":count": av(count)},
                ReturnValues="UPDATED_NEW",
            )
        )
        last = int(response["Attributes"][kind]["N"])
        return list(range(last - count + 1, last + 1))

    def with_new_id[T](self, tenant_id: str, kind: str, insert: Callable[[int], T]) -> T:
        """``insert(id)`` with the next id of ``kind``, and the next while it raises ``IdTaken``."""
        for _ in range(NEW_ID_ATTEMPTS):
            try:
                return insert(self.reserve(tenant_id, [kind])[kind])
            except IdTaken:
                continue
        raise Conflict(f"No free {kind} id was found. Please retry.")
