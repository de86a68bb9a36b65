"""What a cold start imports: a fresh interpreter imports a function's handler by module name, as
Lambda's runtime does, and does not import what its requests may never need (docs/benchmarks.md,
"Cold start"). What SnapStart's priming imports before the snapshot is test_snapstart.py's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.template import REPO_ROOT, Template
from leads_shared.data import STORE_MODULES

PROBE = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])  # the function's CodeUri, as /var/task on Lambda
importlib.import_module(sys.argv[2])
print(json.dumps(sorted(sys.modules)))
"""
ENVIRONMENT = {
    "PATH": "",
    "PYTHONPATH": str(REPO_ROOT / "layers" / "shared"),
    "TABLE_NAME": "leads",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "1",
}


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load()


def imported_with(module: str, path: Path = REPO_ROOT / "layers" / "shared") -> set[str]:
    """Every module a fresh interpreter has once it has imported ``module`` from ``path``."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), module],
        capture_output=True,
        text=True,
        check=True,
        env=ENVIRONMENT,
    )
    return set(json.loads(done.stdout))


def imported_by(template: Template, function_id: str) -> set[str]:
    spec = template.function(function_id)
    return imported_with(spec.handler_module, spec.code_root)


def test_the_meta_function_imports_neither_boto3_nor_a_store(template) -> None:
    modules = imported_by(template, "MetaFunction")
    assert "boto3" not in modules
    assert not modules & set(STORE_MODULES)
    assert "email_validator" not in modules


def test_the_leads_function_imports_only_the_stores_its_domain_code_runs_on(template) -> None:
    """Its routes ask for the lead, directory, record, trash, merge and mail stores; the mail store
    (with the email models) and the capture code come with the first lead written that has an
    email. The trash and merge stores are small and need nothing the lead store does not import
    already."""
    modules = imported_by(template, "LeadsFunction")
    assert modules & set(STORE_MODULES) == {
        "leads_shared.data.directory_store",
        "leads_shared.data.lead_store",
        "leads_shared.data.merge_store",
        "leads_shared.data.record_store",
        "leads_shared.data.trash_store",
    }
    assert "leads_shared.email_capture" not in modules
    assert "email_validator" not in modules
    assert "aws_lambda_powertools.utilities.idempotency" not in modules  # the first qualify with a key


def test_finding_the_caller_imports_no_lead_model() -> None:
    """Every route asks who is calling (``leads_shared.identity``: the directory and its models);
    a function whose routes are not about leads does not build the lead models for that."""
    modules = imported_with("leads_shared.identity")
    assert "leads_shared.models.directory" in modules
    assert not modules & {"leads_shared.models.leads", "leads_shared.models.activities"}
