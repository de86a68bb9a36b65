"""The real queue paths in integration tests. Imports: presigned POST to the emulator's S3, whose
bucket notifies the import queue, drained into the import worker's handler. Exports: the job's
message on the export queue, drained into the export worker's handler. Both as Lambda's SQS event
source does, run synchronously so that a test can look at the result right after."""

from __future__ import annotations

import csv
import io
from typing import Any

import requests

from devstack.emulator import Emulator
from devstack.poller import SqsPoller
from devstack.runtime import LambdaFunction


class QueueWorker:
    """A queue-fed function of the template and its queue."""

    def __init__(self, emulator: Emulator, function_id: str) -> None:
        self.emulator = emulator
        self.sources = [s for s in emulator.template.sqs_sources() if s.function_id == function_id]
        self.worker = LambdaFunction(emulator.template.function(function_id))
        self.worker.load()
        self.poller = SqsPoller(emulator, self.sources, {function_id: self.worker})
        self.sqs = emulator.client("sqs")
        self.queue = emulator.resources[self.sources[0].queue_id]

    def messages(self) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])

    def pending(self) -> int:
        """Messages still on the queue, visible or not: a message the worker failed stays (hidden
        until its visibility timeout); one it processed or dropped is deleted."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(count) for count in attributes.values())

    def drain(self, limit: int = 20) -> int:
        """Deliver every queued message to the worker; how many batches ran."""
        batches = 0
        while batches < limit and (messages := self.messages()):
            self.poller._process_batch(self.sources[0], messages, self.queue.arn, self.sqs)
            batches += 1
        return batches

    def purge(self) -> None:
        """Delete the visible messages (one an earlier test's worker failed stays hidden: SQS
        allows one PurgeQueue a minute)."""
        while messages := self.messages():
            self.sqs.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )


class ImportPath(QueueWorker):
    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator, "ImportWorkerFunction")

    def upload(self, started: dict[str, Any], content: bytes) -> requests.Response:
        """What a client does with the answer of POST /leads/import: post the form to S3."""
        upload = started["upload"]
        return requests.post(
            upload["url"], data=upload["fields"], files={"file": ("leads.csv", content)}, timeout=10
        )


class ExportPath(QueueWorker):
    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator, "ExportWorkerFunction")


def csv_bytes(rows: list[dict[str, Any]], columns: list[str] | None = None, *, delimiter: str = ",",
              bom: bool = False, encoding: str = "utf-8") -> bytes:  # fmt: skip
    columns = columns or list(rows[0])
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, delimiter=delimiter, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode(encoding)
