"""S3 access: reading the raw messages the drop-box address stores in the bucket.

Only the data layer imports boto3. Failures become domain errors: a missing object is
``ObjectMissing``, one over the caller's limit ``ObjectTooLarge``, anything else
``ServiceUnavailable`` (retry) or ``StoreFailure`` (the S3 error code, for logs only).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from leads_shared.errors import DomainError, ServiceUnavailable, StoreFailure

MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchBucket"})
BUSY_CODES = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"})


class ObjectMissing(Exception):
    """The object (or its bucket) does not exist (any more)."""


class ObjectTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


@lru_cache(maxsize=1)
def s3_client() -> Any:
    """One client per process, made on first use; the endpoint comes from the standard
    ``AWS_ENDPOINT_URL`` when set (the local emulator). Path-style addressing works on both."""
    return boto3.client(
        "s3",
        config=Config(
            retries={"mode": "standard", "max_attempts": 4},
            connect_timeout=2,
            read_timeout=20,
            s3={"addressing_style": "path"},
        ),
    )


def _failure(exc: ClientError | BotoCoreError) -> DomainError:
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in BUSY_CODES:
            return ServiceUnavailable("The file store is busy. Please retry shortly.")
        return StoreFailure(f"S3 {code}")
    return ServiceUnavailable("The file store is unavailable. Please retry shortly.")


class BlobStore:
    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or s3_client()

    def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """The object's bytes; ``ObjectTooLarge`` (without reading it) past ``max_bytes``."""
        try:
            response = self.client.get_object(Bucket=bucket, Key=key)
            size = int(response.get("ContentLength", 0))
            if size > max_bytes:
                response["Body"].close()
                raise ObjectTooLarge(size)
            data: bytes = response["Body"].read()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in MISSING_CODES:
                raise ObjectMissing() from exc
            raise _failure(exc) from exc
        except BotoCoreError as exc:
            raise _failure(exc) from exc
        return data
