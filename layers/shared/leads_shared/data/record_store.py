"""DynamoDB access for what qualifying creates (contacts, companies, deals) and the LOOKUP index
(companies by normalised name, contacts and leads by email); its ids come from the tenant's
sequences (a ``SequenceStore``)."""

from __future__ import annotations

from typing import Any

from leads_shared.data.dynamo import av, query_pages, store_errors, stored_values, to_item
from leads_shared.data.sequences import SequenceStore
from leads_shared.keys import (
    LOOKUP_INDEX,
    CompanyKeys,
    ContactKeys,
    DealKeys,
    EmailLookup,
    IndexPartition,
)
from leads_shared.models.records import Company, Contact, Deal


def contact_to_item(contact: Contact) -> dict[str, Any]:
    keys = ContactKeys.all_keys(contact.tenant_id, contact.id, contact.email)
    return to_item({**contact.model_dump(), **keys, "entity": "contact"})


def company_to_item(company: Company) -> dict[str, Any]:
    keys = CompanyKeys.all_keys(company.tenant_id, company.id, company.name)
    return to_item({**company.model_dump(), **keys, "entity": "company"})


def deal_to_item(deal: Deal) -> dict[str, Any]:
    return to_item({**deal.model_dump(), **DealKeys.primary(deal.tenant_id, deal.id), "entity": "deal"})


class RecordStore(SequenceStore):
    def contact(self, tenant_id: str, contact_id: int) -> Contact | None:
        found = self.get_values(ContactKeys.primary(tenant_id, contact_id))
        return Contact.model_validate(found) if found else None

    def company(self, tenant_id: str, company_id: int) -> Company | None:
        found = self.get_values(CompanyKeys.primary(tenant_id, company_id))
        return Company.model_validate(found) if found else None

    def deal(self, tenant_id: str, deal_id: int) -> Deal | None:
        found = self.get_values(DealKeys.primary(tenant_id, deal_id))
        return Deal.model_validate(found) if found else None

    def _lookup(self, partition: IndexPartition, prefix: str | None, limit: int) -> list[dict[str, Any]]:
        condition = "#pk = :pk" + (" AND begins_with(LOOKUPSK, :prefix)" if prefix else "")
        values = {":pk": av(partition.value)}
        if prefix:
            values[":prefix"] = av(prefix)
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": LOOKUP_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": partition.attribute},
            "ExpressionAttributeValues": values,
            "Limit": limit,
        }
        rows: list[dict[str, Any]] = []
        with store_errors():
            for page in query_pages(self.client, **request):
                rows.extend(stored_values(item) for item in page.get("Items", []))
                if len(rows) >= limit:
                    break
        return rows[:limit]

    def companies_named(self, tenant_id: str, name: str, limit: int) -> list[Company]:
        """The first ``limit`` companies, by normalised name, whose normalised name starts with
        ``name``'s (``company_names``): one Query of the LOOKUP index."""
        rows = self._lookup(CompanyKeys.by_name(tenant_id), CompanyKeys.name_prefix(name), limit)
        return [Company.model_validate(row) for row in rows]

    def with_email(self, tenant_id: str, email: str, limit: int) -> list[dict[str, Any]]:
        """Contacts and leads of the tenant with this email (any case): their stored values,
        each with its ``entity`` (``contact`` or ``lead``)."""
        return self._lookup(EmailLookup.partition(tenant_id, email), None, limit)
