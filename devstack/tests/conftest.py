"""Fixtures for the local stack's tests: tiny templates and handlers written into tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

WriteProject = Callable[[str, dict[str, str]], Path]  # test modules take it as a fixture parameter


@pytest.fixture
def write_project(tmp_path: Path) -> WriteProject:
    """Write template.yaml and the given files (path -> source) into tmp_path; return the template path."""

    def write(template: str, files: dict[str, str]) -> Path:
        for relative_path, source in files.items():
            path = tmp_path / relative_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source), encoding="utf-8")
        template_path = tmp_path / "template.yaml"
        template_path.write_text(textwrap.dedent(template), encoding="utf-8")
        return template_path

    return write
