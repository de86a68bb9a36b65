"""SQS access: a message that starts (or continues) a background job. The only SQS user of the
layer; a failure to send is ``ServiceUnavailable``."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from leads_shared.errors import ServiceUnavailable


@lru_cache(maxsize=1)
def sqs_client() -> Any:
    """The endpoint comes from ``AWS_ENDPOINT_URL`` when set (the local emulator)."""
    return boto3.client(
        "sqs",
        config=Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2, read_timeout=10),
    )


class JobQueue:
    """A queue known by its name (what the template can give every function, here and on AWS);
    its URL is asked for once, on the first message."""

    def __init__(self, queue_name: str, client: Any | None = None) -> None:
        self.queue_name = queue_name
        self._client = client
        self._url: str | None = None

    @property
    def client(self) -> Any:
        return self._client or sqs_client()

    def send(self, body: dict[str, Any]) -> None:
        if not self.queue_name:
            raise ServiceUnavailable("Background jobs are not configured here.")
        try:
            if self._url is None:
                self._url = str(self.client.get_queue_url(QueueName=self.queue_name)["QueueUrl"])
            self.client.send_message(QueueUrl=self._url, MessageBody=json.dumps(body))
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("The job queue is unavailable. Please retry shortly.") from exc
