"""One line per test file as it finishes (`tests/unit/test_auth.py: 12 passed in 1.3 s`), with
or without pytest-xdist, instead of rows of dots: `make test` says where it is. (`make test`
runs `--dist loadfile`: a file's tests stay together on one worker, so its module fixtures are
built once and its tests run in their order.)"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

import pytest


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


class FileProgress:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.expected: Counter[str] = Counter()
        self.done: Counter[str] = Counter()
        self.outcomes: dict[str, Counter[str]] = defaultdict(Counter)
        self.started: dict[str, float] = {}
        self.files_done = 0

    # The test ids: from collection (no xdist), or from the first worker that collected (xdist).
    def expect(self, nodeids: list[str]) -> None:
        if not self.expected:
            self.expected.update(_file_of(nodeid) for nodeid in nodeids)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.expect([item.nodeid for item in items])  # without xdist: the run collects itself

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.expect(ids)

    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        """No dot per passing test: the file's line says it (failures keep their letter)."""
        if report.when == "call" and report.passed:
            return "passed", "", "PASSED"
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        path = _file_of(report.nodeid)
        self.started.setdefault(path, time.monotonic())
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.outcomes[path][report.outcome] += 1
        if report.when == "teardown":
            self.done[path] += 1
            if report.failed:
                self.outcomes[path]["error"] += 1
            if self.done[path] == self.expected.get(path):
                self.files_done += 1
                seconds = time.monotonic() - self.started[path]
                outcomes = ", ".join(f"{count} {name}" for name, count in sorted(self.outcomes[path].items()))
                reporter = self.config.pluginmanager.get_plugin("terminalreporter")
                if reporter is not None:
                    reporter.write_line(
                        f"[{self.files_done}/{len(self.expected)}] {path}: {outcomes} in {seconds:.1f} s"
                    )
