"""The README's "Try it" commands work as written, on a fresh `make dev` stack (its own, so that
the ids the README shows are the ids a new user gets)."""

from __future__ import annotations

import re
import subprocess

import pytest

from devstack.template import REPO_ROOT
from tests.e2e.conftest import running_stack, stack_environment

pytestmark = pytest.mark.e2e


def try_it_block() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Try it", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_readme_walkthrough():
    script = "\n".join(
        line
        for line in try_it_block().splitlines()
        if not line.startswith(("make dev", "open "))  # the stack is ours; no browser here
    )
    with running_stack() as stack:
        script = script.replace("http://127.0.0.1:3000", stack.base_url)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=REPO_ROOT,
            env={**stack_environment(), "MAKEFLAGS": ""},
            capture_output=True,
            text=True,
            timeout=120,
        )
    out = result.stdout
    assert result.returncode == 0, result.stderr + out
    assert "HTTP/1.1 201" in out and 'ETag: "1"' in out and '"id":51' in out  # the create
    assert 'ETag: "2"' in out  # the update with If-Match
    assert '{"success":true}' in out  # the delete
    assert '{"status":"ok"}' in out  # health
    assert '"openapi":' in out and '"/leads/{id}"' in out  # the merged document
    # the lists, with a working token (the document printed above holds a 401 example of its own)
    assert '"total":' in out and '{"message":"Unauthenticated."}' not in out
    assert '"content":"Called: wants a demo with their CTO."' in out  # the note
    assert '"title":"Book the demo"' in out  # lead 1's demo tasks
    assert '"name":"Initech LLC"' in out and '"match":"exact"' in out  # match-company
    assert '{"success":true,"contact_id":' in out and '"status":"qualified"' in out  # qualify
