"""Qualify and disqualify over in-memory stores: a conversion writes the lead, its counts and its
new records together or not at all (tests/integration/test_qualify.py: the same on the emulator)."""

from __future__ import annotations

import pytest

from leads_shared.auth import Principal
from leads_shared.errors import Conflict, NotFound, ValidationFailed
from leads_shared.leads import create_lead
from leads_shared.models.leads import LeadCreate
from leads_shared.models.records import Contact, DisqualifyRequest, QualifyRequest
from leads_shared.qualify import disqualify_lead, qualify_lead
from tests.support.fake_store import FakeStores

ALICE = Principal(user_id=1, tenant_id="acme", role="admin")
NOW = "2026-01-01T00:00:00.000000Z"


@pytest.fixture
def stores() -> FakeStores:
    stores = FakeStores.new()
    create_lead(
        ALICE, LeadCreate(first_name="Ann", last_name="Lee", company="Acme Inc"), stores.leads, stores.mail
    )
    return stores


def qualify(stores: FakeStores, lead_id: int = 1, **request):
    data = QualifyRequest(**request)
    return qualify_lead(ALICE, lead_id, data, stores.leads, stores.records, stores.directory)


def contact(contact_id: int) -> Contact:
    return Contact(
        tenant_id="acme", id=contact_id, first_name="Ann", last_name="Lee", created_at=NOW, updated_at=NOW
    )


def written(stores: FakeStores) -> tuple[int, int, int]:
    return len(stores.table.contacts), len(stores.table.companies), len(stores.table.deals)


def test_qualifying_converts_the_lead_into_its_records(stores):
    result = qualify(stores, create_company=True, create_deal=True, deal_value=1000)
    lead = stores.leads.get("acme", 1)
    assert (result.contact_id, result.company_id, result.deal_id) == (1, 1, 1)
    assert (lead.status, lead.contact_id, lead.company_id, lead.deal_id, lead.version) == (
        "qualified",
        1,
        1,
        1,
        2,
    )
    assert lead.qualified_at is not None and lead.updated_at == lead.qualified_at
    contact, company, deal = (
        stores.records.contact("acme", 1),
        stores.records.company("acme", 1),
        stores.records.deal("acme", 1),
    )
    assert (contact.first_name, contact.company_id, company.name) == ("Ann", 1, "Acme Inc")
    first_open = stores.directory.stages("acme")[0]
    assert (deal.name, deal.stage_id, deal.contact_id, deal.value) == (
        "Acme Inc deal",
        first_open.id,
        1,
        1000,
    )
    assert stores.directory.deal_counts == {("acme", first_open.id): 1}
    stats = stores.leads.stats("acme")
    assert (stats.count("status_new"), stats.count("status_qualified"), stats.total) == (0, 1, 1)


def test_a_closed_lead_is_not_converted_again(stores):
    qualify(stores)
    with pytest.raises(Conflict, match="already qualified"):
        qualify(stores, create_company=True)
    assert written(stores) == (1, 0, 0)
    with pytest.raises(Conflict):
        disqualify_lead(ALICE, 1, DisqualifyRequest(reason="x"), stores.leads)


def test_ids_taken_already_write_nothing_and_new_ones_are_taken(stores):
    # The contact sequence is behind the data: contact 1 exists.
    stores.table.contacts[("acme", 1)] = contact(1)
    result = qualify(stores, create_company=True)
    # The first attempt's company (id 1) was not written without its contact: all or nothing.
    assert (result.contact_id, result.company_id) == (2, 2)
    assert sorted(stores.table.companies) == [("acme", 2)]
    assert stores.leads.get("acme", 1).contact_id == 2


def test_a_conversion_that_never_gets_through_writes_nothing(stores):
    def lead_changed_by_others(write: str) -> None:
        lead = stores.leads.get("acme", 1)
        stores.table.leads[("acme", 1)] = lead.model_copy(update={"version": lead.version + 1})

    stores.table.before_write = lead_changed_by_others
    with pytest.raises(Conflict, match="being changed by others"):
        qualify(stores, create_company=True, create_deal=True)
    assert written(stores) == (0, 0, 0)
    assert stores.leads.get("acme", 1).status == "new"
    assert stores.directory.deal_counts == {}
    assert stores.leads.stats("acme").count("status_qualified") == 0


def test_a_stage_deleted_meanwhile_takes_nothing_with_it(stores):
    qualify_stage = stores.directory  # the pipeline is made on first use

    def stage_deleted_once(write: str) -> None:
        stores.table.before_write = None
        qualify_stage.remove_stage("acme", qualify_stage.stages("acme")[0].id)

    stores.table.before_write = stage_deleted_once
    result = qualify(stores, create_deal=True)
    deal = stores.records.deal("acme", result.deal_id)
    assert deal.stage_id == qualify_stage.stages("acme")[0].id  # the first open stage left
    assert written(stores) == (1, 0, 1)


def test_our_own_conversion_whose_answer_was_lost_is_a_success(stores):
    stores.table.lost_answers = 1
    result = qualify(stores, create_company=True)
    assert (result.contact_id, result.company_id) == (1, 1)
    assert written(stores) == (1, 1, 0)


def test_linked_records_must_exist_in_the_tenant(stores):
    with pytest.raises(ValidationFailed) as refused:
        qualify(stores, contact_id=5)
    assert refused.value.errors == {"contact_id": ["The selected contact id is invalid."]}
    with pytest.raises(ValidationFailed, match="either company_id or create_company"):
        qualify(stores, company_id=1, create_company=True)
    assert written(stores) == (0, 0, 0) and stores.leads.get("acme", 1).status == "new"


def test_qualifying_with_an_existing_contact_links_it(stores):
    stores.table.contacts[("acme", 9)] = contact(9)
    result = qualify(stores, contact_id=9)
    assert result.contact_id == 9 and written(stores) == (1, 0, 0)


def test_disqualify_keeps_the_first_time_and_replaces_the_reason(stores):
    first = disqualify_lead(ALICE, 1, DisqualifyRequest(reason="budget"), stores.leads)
    again = disqualify_lead(ALICE, 1, DisqualifyRequest(reason="timing"), stores.leads)
    assert (first.version, again.version) == (2, 3)
    assert again.disqualified_at == first.disqualified_at and again.disqualified_reason == "timing"
    assert stores.leads.stats("acme").count("status_disqualified") == 1
    with pytest.raises(NotFound):
        disqualify_lead(ALICE, 2, DisqualifyRequest(reason="x"), stores.leads)
