"""The in-memory stores the rule tests use keep the real stores' interfaces: every method a fake
offers exists on its store with the same parameters, so a rule that runs on the fakes calls what
the data layer really has."""

from __future__ import annotations

import inspect

import pytest

from leads_shared.data.activity_store import ActivityStore
from leads_shared.data.directory_store import DirectoryStore
from leads_shared.data.lead_store import LeadStore
from leads_shared.data.mail_store import MailStore
from leads_shared.data.record_store import RecordStore
from leads_shared.data.trash_store import TrashStore
from tests.support.fake_store import (
    FakeActivityStore,
    FakeLeadStore,
    FakeMailStore,
    FakeRecordStore,
    FakeStages,
    FakeTrashStore,
)

# What the fakes add for tests (faults, bookkeeping), not store methods.
TEST_ONLY = {"remove_stage", "count_deal", "put_team"}


@pytest.mark.parametrize(
    ("fake", "real"),
    [
        (FakeLeadStore, LeadStore),
        (FakeActivityStore, ActivityStore),
        (FakeRecordStore, RecordStore),
        (FakeMailStore, MailStore),
        (FakeStages, DirectoryStore),
        (FakeTrashStore, TrashStore),
    ],
)
def test_every_fake_method_is_a_store_method_with_its_parameters(fake, real):
    methods = [
        name
        for name, member in inspect.getmembers(fake, inspect.isfunction)
        if not name.startswith("_") and name not in TEST_ONLY
    ]
    assert methods
    for name in methods:
        assert hasattr(real, name), f"{real.__name__} has no {name}"
        ours = list(inspect.signature(getattr(fake, name)).parameters)
        theirs = list(inspect.signature(getattr(real, name)).parameters)
        assert ours == theirs, f"{fake.__name__}.{name}{ours} is not {real.__name__}.{name}{theirs}"
