"""S3 access: presigned uploads and downloads and streamed reads of CSV files, multipart writes
whose memory does not grow with the file, and reading the raw messages the drop-box stores.
The only S3 user of the layer. Failures become domain errors: ``ServiceUnavailable`` (retry) or
``StoreFailure`` (the S3 error code, for logs only); a missing object is ``ObjectMissing``, one
over the caller's limit ``ObjectTooLarge``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from leads_shared.errors import DomainError, ServiceUnavailable, StoreFailure

READ_CHUNK = 1024 * 1024
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
    """SigV4 (what presigned URLs must be signed with) and path-style addressing (works against
    the local emulator and AWS alike). The endpoint comes from ``AWS_ENDPOINT_URL`` when set."""
    return boto3.client(
        "s3",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"mode": "standard", "max_attempts": 4},
            connect_timeout=2,
            read_timeout=30,
        ),
    )


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _failed(exc: ClientError | BotoCoreError) -> DomainError:
    if isinstance(exc, ClientError):
        if _code(exc) in BUSY_CODES:
            return ServiceUnavailable("The file store is busy. Please retry shortly.")
        return StoreFailure(f"S3 {_code(exc)}")
    return ServiceUnavailable("The file store is unavailable. Please retry shortly.")


class BlobStore:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or s3_client()

    def presigned_post(self, key: str, max_bytes: int, expires_in: int) -> PresignedPost:
        """A form upload straight to S3: only to ``key``, at most ``max_bytes``."""
        try:
            post = self.client.generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Conditions=[["content-length-range", 1, max_bytes]],
                ExpiresIn=expires_in,
            )
        except (ClientError, BotoCoreError) as exc:
            raise _failed(exc) from exc
        return PresignedPost(url=post["url"], fields=dict(post["fields"]))

    def download_url(self, key: str, filename: str, expires_in: int) -> str:
        """A presigned GET that browsers save as ``filename`` (served as a CSV attachment)."""
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                    "ResponseContentType": "text/csv; charset=utf-8",
                },
                ExpiresIn=expires_in,
            )
        )

    def put(self, key: str, body: bytes, content_type: str = "text/csv") -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        except (ClientError, BotoCoreError) as exc:
            raise _failed(exc) from exc

    def version(self, key: str) -> str:
        """What names this very content of ``key``: its version id in a versioned bucket (ours
        is), else its ETag. A later upload to the same key never changes what it names."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise _failed(exc) from exc
        version_id = head.get("VersionId")
        return f"version:{version_id}" if version_id and version_id != "null" else f"etag:{head['ETag']}"

    def chunks(self, key: str, version: str | None = None) -> Iterator[bytes]:
        """The object's bytes (the given ``version`` of it), a megabyte at a time (never the
        whole object in memory)."""
        pinned: dict[str, str] = {}
        if version and version.startswith("version:"):
            pinned["VersionId"] = version.removeprefix("version:")
        elif version and version.startswith("etag:"):
            pinned["IfMatch"] = version.removeprefix("etag:")
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key, **pinned)["Body"]
            yield from body.iter_chunks(READ_CHUNK)
        except (ClientError, BotoCoreError) as exc:
            raise _failed(exc) from exc

    def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """A whole (small) object of ``bucket``; ``ObjectTooLarge`` (without reading it) past
        ``max_bytes``, ``ObjectMissing`` when it is gone."""
        try:
            response = self.client.get_object(Bucket=bucket, Key=key)
            size = int(response.get("ContentLength", 0))
            if size > max_bytes:
                response["Body"].close()
                raise ObjectTooLarge(size)
            data: bytes = response["Body"].read()
        except ClientError as exc:
            if _code(exc) in MISSING_CODES:
                raise ObjectMissing() from exc
            raise _failed(exc) from exc
        except BotoCoreError as exc:
            raise _failed(exc) from exc
        return data

    def write_parts(self, key: str, parts: Iterable[bytes], content_type: str = "text/csv") -> int:
        """Write an object from ``parts`` (each at least 5 MiB but the last, as S3 requires): one
        PutObject when there is a single part, else a multipart upload (aborted on failure, so
        nothing half-written remains). Returns the size in bytes."""
        iterator = iter(parts)
        first = next(iterator, b"")
        second = next(iterator, None)
        if second is None:
            self.put(key, first, content_type)
            return len(first)
        try:
            upload = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type
            )
        except (ClientError, BotoCoreError) as exc:
            raise _failed(exc) from exc
        upload_id, done, size = upload["UploadId"], [], 0
        try:
            for number, part in enumerate(_chain(first, second, iterator), start=1):
                answer = self.client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=part
                )
                done.append({"PartNumber": number, "ETag": answer["ETag"]})
                size += len(part)
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
            )
        except BaseException as exc:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except (ClientError, BotoCoreError):
                pass  # the bucket's lifecycle rule aborts it after a day
            if isinstance(exc, ClientError | BotoCoreError):
                raise _failed(exc) from exc
            raise
        return size

    # A multipart upload written over several runs (an export job resumes one): each call is
    # one S3 request; the caller keeps the upload id and the parts' ETags.
    def start_upload(self, key: str, content_type: str = "text/csv") -> str:
        """A new multipart upload to ``key``: its id."""
        try:
            upload = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type
            )
        except (ClientError, BotoCoreError) as exc:
            raise _failed(exc) from exc
        return str(upload["UploadId"])

    def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Part ``number`` (1…10,000; at least 5 MiB but the last): its ETag. Uploading a number
        again replaces that part."""
        try:
            answer = self.client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
        except (ClientError, BotoCoreError) as exc:
            raise _failed(exc) from exc
        return str(answer["ETag"])

    def complete_upload(self, key: str, upload_id: str, parts: Iterable[tuple[int, str]]) -> None:
        """Make the object of the uploaded ``(number, ETag)`` parts. An upload completed already
        (a retry whose first answer was lost) is done when its object exists."""
        listed = [{"PartNumber": number, "ETag": etag} for number, etag in parts]
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed}
            )
        except ClientError as exc:
            if _code(exc) == "NoSuchUpload" and self._exists(key):
                return
            raise _failed(exc) from exc
        except BotoCoreError as exc:
            raise _failed(exc) from exc

    def abort_upload(self, key: str, upload_id: str) -> None:
        """Drop the upload and its parts (best effort: the bucket's lifecycle rule aborts an
        incomplete upload after a day)."""
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError):
            pass

    def remove_every_version(self, bucket: str, key: str) -> int:
        """Delete an object of ``bucket`` for good: each of its versions and delete markers (the
        bucket is versioned: a plain delete would only hide it). How many were deleted."""
        try:
            paginator = self.client.get_paginator("list_object_versions")
            versions = [
                {"Key": found["Key"], "VersionId": found["VersionId"]}
                for page in paginator.paginate(Bucket=bucket, Prefix=key)
                for kind in ("Versions", "DeleteMarkers")
                for found in page.get(kind, [])
                if found["Key"] == key
            ]
            for start in range(0, len(versions), 1000):
                answer = self.client.delete_objects(
                    Bucket=bucket, Delete={"Objects": versions[start : start + 1000], "Quiet": True}
                )
                # A version S3 did not delete is an error in a 200 answer, not an exception: the
                # caller must not go on (an erasure would delete what names the object).
                refused = answer.get("Errors", [])
                if refused:
                    raise StoreFailure(f"S3 {refused[0].get('Code', 'Error')}")
        except (ClientError, BotoCoreError) as exc:
            raise _failed(exc) from exc
        return len(versions)

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in MISSING_CODES:
                return False
            raise
        return True


def _chain(first: bytes, second: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield second
    yield from rest
