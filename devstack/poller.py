"""Lambda's SQS event source mapping, locally: long-poll each queue and invoke its function with batches.

Messages the function processed are deleted. With `FunctionResponseTypes: [ReportBatchItemFailures]`
the ids in the returned `batchItemFailures` stay on the queue (as in Lambda, the return value is
ignored without it). When the handler raises, nothing is deleted. Messages left on the queue come
back after its visibility timeout and move to the dead-letter queue by its redrive policy.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Mapping
from typing import Any

from devstack.emulator import Emulator
from devstack.runtime import LambdaFunction
from devstack.template import REGION, SqsEventSource

logger = logging.getLogger(__name__)

WAIT_TIME_SECONDS = 1  # short long-polls, so that stop() is quick


class SqsPoller:
    def __init__(
        self, emulator: Emulator, sources: list[SqsEventSource], functions: Mapping[str, LambdaFunction]
    ):
        self._emulator = emulator
        self._sources = sources
        self._functions = functions
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for source in self._sources:
            thread = threading.Thread(
                target=self._poll, args=(source,), daemon=True, name=f"sqs-poller-{source.function_id}"
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join()

    def _poll(self, source: SqsEventSource) -> None:
        sqs = self._emulator.client("sqs")
        queue = self._emulator.resources[source.queue_id]
        while not self._stopping.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=queue.url,
                    MaxNumberOfMessages=min(source.batch_size, 10),
                    WaitTimeSeconds=WAIT_TIME_SECONDS,
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                if messages:
                    self._process_batch(source, messages, queue.arn, sqs)
            except Exception:
                if not self._stopping.is_set():
                    logger.exception("SQS poller for %s failed", source.function_id)
                    self._stopping.wait(1)

    def _process_batch(
        self, source: SqsEventSource, messages: list[dict[str, Any]], queue_arn: str, sqs: Any
    ) -> None:
        event = {"Records": [sqs_record(message, queue_arn) for message in messages]}
        try:
            result = self._functions[source.function_id].invoke(event)
        except Exception:
            logger.exception(
                "function %s failed on an SQS batch; the messages stay on the queue", source.function_id
            )
            return
        failed_ids = self._failed_ids(source, result, {message["MessageId"] for message in messages})
        done = [message for message in messages if message["MessageId"] not in failed_ids]
        if done:
            sqs.delete_message_batch(
                QueueUrl=self._emulator.resources[source.queue_id].url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done)
                ],
            )

    @staticmethod
    def _failed_ids(source: SqsEventSource, result: Any, batch_ids: set[str]) -> set[str]:
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        if not source.report_batch_item_failures:
            if failures:
                logger.warning(
                    "%s returned batchItemFailures without FunctionResponseTypes: "
                    "[ReportBatchItemFailures]; Lambda ignores them",
                    source.function_id,
                )
            return set()
        failed_ids = {str((failure or {}).get("itemIdentifier")) for failure in failures or []}
        if not failed_ids <= batch_ids:  # Lambda treats an unknown or empty identifier as a failed batch
            logger.error(
                "%s returned invalid batchItemFailures %r; the whole batch failed",
                source.function_id,
                failures,
            )
            return batch_ids
        return failed_ids


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One SQS message as Lambda's SQS event source puts it in `Records`."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {
                "stringValue": attribute.get("StringValue"),
                "binaryValue": base64.b64encode(attribute["BinaryValue"]).decode()
                if "BinaryValue" in attribute
                else None,
                "stringListValues": attribute.get("StringListValues", []),
                "binaryListValues": [
                    base64.b64encode(value).decode() for value in attribute.get("BinaryListValues", [])
                ],
                "dataType": attribute["DataType"],
            }
            for name, attribute in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
