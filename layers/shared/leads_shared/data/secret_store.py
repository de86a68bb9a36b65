"""Secrets the functions read from SSM Parameter Store (SecureString), kept in memory for a few
minutes (a rotated secret is read again within that time)."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from leads_shared.data.dynamo import store_errors

CACHE_SECONDS = 300


@lru_cache(maxsize=1)
def ssm_client() -> Any:
    return boto3.client(
        "ssm",
        config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5),
    )


class SecretStore:
    def __init__(self, client: Any | None = None) -> None:
        self._client = client
        self._cache: dict[str, tuple[float, str | None]] = {}

    @property
    def client(self) -> Any:
        return self._client or ssm_client()

    def parameter(self, name: str) -> str | None:
        """The decrypted value of the parameter ``name`` (None: there is no such parameter)."""
        cached = self._cache.get(name)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        value: str | None = None
        with store_errors():
            try:
                value = self.client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ParameterNotFound":
                    raise
        self._cache[name] = (time.monotonic() + CACHE_SECONDS, value)
        return value
