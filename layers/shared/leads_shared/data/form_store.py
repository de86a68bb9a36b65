"""DynamoDB access for lead forms: the forms, their public keys' lookup items, and what they
received (submissions). Ids come from the tenant's sequences (a ``SequenceStore``)."""

from __future__ import annotations

from typing import Any

from leads_shared.data.dynamo import av, query_pages, store_errors, stored_values, to_item
from leads_shared.data.sequences import SequenceStore
from leads_shared.data.writes import (
    ConditionFailed,
    VersionConflict,
    delete_if_version,
    put_if_version,
    transient_retries,
)
from leads_shared.keys import FormKeys, tenant_pk
from leads_shared.models.forms import LeadForm, Submission

# The most submissions one list answers (the newest).
SUBMISSIONS_LISTED = 100


class KeyTaken(Exception):
    """The new public key exists already (never, with 144 random bits: take another)."""


def form_to_item(form: LeadForm) -> dict[str, Any]:
    return to_item({**form.model_dump(), **FormKeys.form(form.tenant_id, form.id), "entity": "lead_form"})


def _key_lookup(form: LeadForm) -> dict[str, Any]:
    return to_item(
        {
            **FormKeys.public_key(form.public_key),
            "entity": "lead_form_key",
            "tenant_id": form.tenant_id,
            "form_id": form.id,
        }
    )


class FormStore(SequenceStore):
    def form(self, tenant_id: str, form_id: int) -> LeadForm | None:
        found = self.get_values(FormKeys.form(tenant_id, form_id))
        return LeadForm.model_validate(found) if found else None

    def forms(self, tenant_id: str) -> list[LeadForm]:
        """Every form of the tenant, by id (one Query of the tenant's partition)."""
        request = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": av(tenant_pk(tenant_id)), ":prefix": av(FormKeys.FORM)},
            "ConsistentRead": True,
        }
        found: list[LeadForm] = []
        with store_errors():
            for page in query_pages(self.client, **request):
                found.extend(LeadForm.model_validate(stored_values(item)) for item in page.get("Items", []))
        return found

    def form_of_key(self, public_key: str) -> LeadForm | None:
        """The form whose current public key this is (two GetItems), or None."""
        found = self.get_values(FormKeys.public_key(public_key))
        if found is None:
            return None
        form = self.form(str(found["tenant_id"]), int(found["form_id"]))
        return form if form is not None and form.public_key == public_key else None

    def insert(self, form: LeadForm) -> None:
        """The form and its key's lookup item, in one transaction (``KeyTaken``: the key exists)."""
        items = [
            {"Put": {"TableName": self.table, "Item": form_to_item(form)}},
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _key_lookup(form),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        try:
            transient_retries(lambda: self.transact(items))
        except ConditionFailed as failed:
            raise KeyTaken() from failed

    def replace(self, before: LeadForm, after: LeadForm) -> None:
        """Write ``after`` if the stored form is still ``before``'s version; with a new public key,
        the new key's lookup item replaces the old one in the same transaction."""
        items: list[dict[str, Any]] = [
            {"Put": put_if_version(self.table, form_to_item(after), before.version)}
        ]
        if after.public_key != before.public_key:
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": _key_lookup(after),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
            items.append(
                {"Delete": {"TableName": self.table, "Key": to_item(FormKeys.public_key(before.public_key))}}
            )
        try:
            transient_retries(lambda: self.transact(items))
        except ConditionFailed as failed:
            if failed.failed_items()[:1] == [1]:
                raise KeyTaken() from failed
            raise VersionConflict() from failed

    def delete(self, form: LeadForm) -> None:
        """The form and its key's lookup item, if the form is still ``form``'s version (its
        submissions stay, unreachable, until a cleanup: they are the record of what arrived)."""
        items = [
            {
                "Delete": delete_if_version(
                    self.table, to_item(FormKeys.form(form.tenant_id, form.id)), form.version
                )
            },
            {"Delete": {"TableName": self.table, "Key": to_item(FormKeys.public_key(form.public_key))}},
        ]
        try:
            transient_retries(lambda: self.transact(items))
        except ConditionFailed as failed:
            raise VersionConflict() from failed

    # ---------------------------------------------------------------- submissions
    def add_submission(self, submission: Submission) -> None:
        """Store a submission; one with an email is also in that address's partition of SEARCH
        (``FormKeys.submitted_by``: an erasure of the address finds it)."""
        tenant_id, form_id = submission.tenant_id, submission.form_id
        keys = FormKeys.submission(tenant_id, form_id, submission.received_at, submission.id)
        email = submission.values.get("email", "").strip()
        if email:
            keys.update(
                FormKeys.submission_index_keys(
                    tenant_id, form_id, submission.received_at, submission.id, email
                )
            )
        item = to_item({**submission.model_dump(), **keys, "entity": "form_submission"})
        with store_errors():
            self.client.put_item(TableName=self.table, Item=item)

    def submissions(self, tenant_id: str, form_id: int, limit: int = SUBMISSIONS_LISTED) -> list[Submission]:
        """The newest ``limit`` submissions of the form, newest first (one Query)."""
        with store_errors():
            response = self.client.query(
                TableName=self.table,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                ExpressionAttributeValues={
                    ":pk": av(FormKeys.partition(tenant_id, form_id)),
                    ":prefix": av(FormKeys.SUBMISSION),
                },
                ScanIndexForward=False,
                Limit=limit,
            )
        return [Submission.model_validate(stored_values(item)) for item in response.get("Items", [])]
