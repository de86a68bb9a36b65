"""Which methods the API serves on a path: tells a wrong method (405) from an unknown path (404)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class RouteTable:
    def __init__(self, routes: Iterable[tuple[str, str]]) -> None:
        """``routes``: (path template such as ``/leads/{id}``, method) pairs."""
        methods: dict[str, set[str]] = {}
        for path, method in routes:
            methods.setdefault(path, set()).add(method.upper())
        # As API Gateway does, a literal segment wins over a parameter: /leads/match-company is
        # its own path, not /leads/{id} (paths with fewer parameters are tried first).
        ordered = sorted(methods.items(), key=lambda pair: pair[0].count("{"))
        self._patterns = [(self._pattern(path), sorted(found)) for path, found in ordered]

    @staticmethod
    def _pattern(template: str) -> re.Pattern[str]:
        parts = re.split(r"(\{[^}/]+\})", template)
        regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        return re.compile(regex)

    @classmethod
    def from_openapi(cls, document: Mapping[str, Any], extra: Iterable[tuple[str, str]] = ()) -> RouteTable:
        documented = [
            (path, method)
            for path, item in document.get("paths", {}).items()
            for method in item
            if method.upper() in HTTP_METHODS
        ]
        return cls([*documented, *extra])

    def allowed(self, path: str) -> list[str]:
        """The methods served on ``path`` (empty: the API has no such path)."""
        return next((methods for pattern, methods in self._patterns if pattern.fullmatch(path)), [])
