"""DynamoDB access for what guards a public form: its per-minute rate counters and the markers
that make one submission count once. Both expire by TTL (``expires_at``); a marker whose time is
past counts as gone even before DynamoDB deletes it."""

from __future__ import annotations

from typing import Any

from leads_shared.data.dynamo import TableStore, av, store_errors, to_item
from leads_shared.data.writes import ConditionFailed, transient_retries
from leads_shared.keys import FormKeys


class CaptureStore(TableStore):
    def count(self, tenant_id: str, form_id: int, minute: int, ip: str | None, expires_at: int) -> int:
        """One more request in this minute (of the form, or of one IP on it): the new count."""
        with store_errors():
            response = self.client.update_item(
                TableName=self.table,
                Key=to_item(FormKeys.rate(tenant_id, form_id, minute, ip)),
                UpdateExpression="ADD #count :one SET expires_at = if_not_exists(expires_at, :expires)",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={":one": av(1), ":expires": av(expires_at)},
                ReturnValues="UPDATED_NEW",
            )
        return int(response["Attributes"]["count"]["N"])

    def claim(
        self, tenant_id: str, form_id: int, fingerprints: list[str], now: int, expires_at: int
    ) -> dict[str, Any] | None:
        """Write a marker for each fingerprint, all or none, where none is alive: None when this
        submission is the first. Otherwise the living marker (its ``answer`` once the first one
        has answered; without one while the first is still being handled)."""
        condition = "attribute_not_exists(PK) OR expires_at < :now"
        items = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(
                        {
                            **FormKeys.once(tenant_id, form_id, fp),
                            "entity": "form_once",
                            "expires_at": expires_at,
                        }
                    ),
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": {":now": av(now)},
                }
            }
            for fp in fingerprints
        ]
        try:
            transient_retries(lambda: self.transact(items))
            return None
        except ConditionFailed:
            pass
        found = self.fetch({fp: FormKeys.once(tenant_id, form_id, fp) for fp in fingerprints})
        alive = [values for values in found.values() if int(values.get("expires_at", 0)) >= now]
        answered = [values for values in alive if "answer" in values]
        return (answered or alive or [{}])[0]

    def answer(self, tenant_id: str, form_id: int, fingerprints: list[str], answer: dict[str, Any]) -> None:
        """Keep the answer of the first submission on its markers (what a repeat answers)."""
        for fp in fingerprints:
            with store_errors():
                self.client.update_item(
                    TableName=self.table,
                    Key=to_item(FormKeys.once(tenant_id, form_id, fp)),
                    UpdateExpression="SET answer = :answer",
                    ExpressionAttributeValues={":answer": av(answer)},
                )

    def release(self, tenant_id: str, form_id: int, fingerprints: list[str]) -> None:
        """Remove the markers of a submission that made nothing (it failed): a retry is a first."""
        self.batch_delete([to_item(FormKeys.once(tenant_id, form_id, fp)) for fp in fingerprints])
