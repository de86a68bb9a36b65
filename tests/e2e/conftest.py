"""The local stack as `make dev` runs it (`python -m devstack`), started once per session in
a subprocess and called over real HTTP."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from devstack.template import REPO_ROOT
from devstack.tokens import LOCAL_DEV_SECRET, mint_token

READY = re.compile(r"Leads API ready on (http://\S+)")
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 15
# Set for the in-process tests (tests/conftest.py, the emulator fixture): the stack sets its own.
STACK_OWNED = {"TABLE_NAME", "BUCKET_NAME", "STAGE", "LOG_LEVEL", "PORT", "PYTHONPATH"}
STACK_OWNED_PREFIXES = ("AWS_", "POWERTOOLS_", "JWT_")


def stack_environment() -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in STACK_OWNED and not name.startswith(STACK_OWNED_PREFIXES)
    }
    environment["PYTHONPATH"] = os.pathsep.join([".", "layers/shared"])
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


@dataclass
class LocalStackProcess:
    base_url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)  # everything it printed (stdout and stderr)

    def log(self) -> str:
        return "".join(self.output)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


@contextlib.contextmanager
def running_stack() -> Iterator[LocalStackProcess]:
    """`python -m devstack --port 0` in a subprocess, until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "--port", "0"],
        cwd=REPO_ROOT,
        env=stack_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    output: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:  # keeps reading for the whole session, so the pipe never fills up
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, name="local-stack-output", daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    base_url = None
    try:
        while base_url is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"the local stack was not ready in {START_TIMEOUT_S} s:\n{''.join(output)}")
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(
                    f"the local stack exited ({process.wait()}) before it was ready:\n{''.join(output)}"
                )
            match = READY.search(line)
            if match:
                base_url = match.group(1)
    except BaseException:
        _stop(process)
        raise
    try:
        yield LocalStackProcess(base_url, process, output)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStackProcess]:
    with running_stack() as stack:
        yield stack


@pytest.fixture(scope="session")
def base_url(local_stack: LocalStackProcess) -> str:
    return local_stack.base_url


def token_for(user_id: int, tenant: str, role: str = "user", team_id: int | None = 1) -> str:
    """A token the local stack accepts (HS256 with the dev-only secret)."""
    return mint_token(user_id, tenant, role=role, team_id=team_id, secret=LOCAL_DEV_SECRET)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


@pytest.fixture(scope="session")
def acme_admin() -> dict[str, str]:
    """Alice Admin of the demo tenant acme (user 1, team 1)."""
    return bearer(token_for(1, "acme", role="admin", team_id=1))


@pytest.fixture(scope="session")
def acme_user() -> dict[str, str]:
    """Bob Baker of acme (user 2, team 1)."""
    return bearer(token_for(2, "acme", role="user", team_id=1))


@pytest.fixture(scope="session")
def globex_admin() -> dict[str, str]:
    """Gina Admin of the demo tenant globex, which has no leads."""
    return bearer(token_for(1, "globex", role="admin", team_id=1))
