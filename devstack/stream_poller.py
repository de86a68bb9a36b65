"""Lambda's DynamoDB Streams event source mapping, locally: read a table's stream and invoke the
function with batches of the records its FilterCriteria let through.

As on Lambda: each source starts at its StartingPosition when the poller starts (LATEST: only
what is written from then on); records are read in order, filtered (`event_filter`), and passed
in batches of at most BatchSize, one batch at a time, as `{"Records": [...]}` in Lambda's record
shape. A batch whose invocation raises is delivered again: with BisectBatchOnFunctionError it is
first split in two (which uses no retry), then a record is retried up to MaximumRetryAttempts
times (-1: as long as the poller runs), and then its description (shard, sequence numbers: not
the records) goes to the OnFailure queue, as Lambda sends it, and the stream moves on. The next
batch waits until then: a failing batch holds its shard up, as on Lambda.

Not reproduced: shards that split or close (moto's stream has one shard for good),
MaximumRecordAgeInSeconds, ParallelizationFactor, batching windows; partial batch responses and
tumbling windows are refused when the template is read (`Template.stream_sources`). A stream with
nothing new is polled less often than Lambda does (down to once a second).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from devstack.emulator import Emulator
from devstack.event_filter import passes
from devstack.runtime import LambdaFunction
from devstack.template import ACCOUNT_ID, REGION, StreamEventSource, TemplateError

logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.25  # Lambda polls each shard four times a second
IDLE_POLL_INTERVAL_S = 1.0  # locally, a stream with nothing new is polled less often, down to this
RECORDS_PER_READ = 1000  # GetRecords' largest page
RETRY_DELAY_S = 0.1  # doubled on each retry of a batch, at most MAX_RETRY_DELAY_S
MAX_RETRY_DELAY_S = 2.0


class StreamReader:
    """A table's stream read from a position taken when the reader is made: `read()` returns the
    records written since, in Lambda's record shape (what the tests give a handler, too)."""

    def __init__(self, emulator: Emulator, table_id: str, starting_position: str = "LATEST") -> None:
        table = emulator.resources[table_id].name
        stream_arn = (
            emulator.client("dynamodb").describe_table(TableName=table)["Table"].get("LatestStreamArn")
        )
        if not stream_arn:
            raise TemplateError(f"table {table_id} has no stream (StreamSpecification)")
        self.stream_arn: str = stream_arn
        self._streams = emulator.client("dynamodbstreams")
        shards = self._streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        self._iterators: dict[str, str] = {
            shard["ShardId"]: self._streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType=starting_position
            )["ShardIterator"]
            for shard in shards
        }

    def read_shards(self) -> dict[str, list[dict[str, Any]]]:
        """What each shard got since the last read (shard id -> records, oldest first)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for shard_id in list(self._iterators):
            records: list[dict[str, Any]] = []
            while True:
                page = self._streams.get_records(
                    ShardIterator=self._iterators[shard_id], Limit=RECORDS_PER_READ
                )
                self._iterators[shard_id] = page["NextShardIterator"]  # only once the read succeeded
                records.extend(lambda_record(record, self.stream_arn) for record in page["Records"])
                if len(page["Records"]) < RECORDS_PER_READ:
                    break
            if records:
                found[shard_id] = records
        return found

    def read(self) -> list[dict[str, Any]]:
        """Every record written since the last read, oldest first."""
        return [record for records in self.read_shards().values() for record in records]


class StreamPoller:
    def __init__(
        self,
        emulator: Emulator,
        sources: list[StreamEventSource],
        functions: Mapping[str, LambdaFunction],
    ) -> None:
        self._emulator = emulator
        self._sources = sources
        self._functions = functions
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Take each source's starting position now (so that LATEST means "written after start()"),
        then poll each in a thread of its own."""
        readers = [
            (source, StreamReader(self._emulator, source.table_id, source.starting_position))
            for source in self._sources
        ]
        for source, reader in readers:
            thread = threading.Thread(
                target=self._poll,
                args=(source, reader),
                daemon=True,
                name=f"stream-poller-{source.function_id}",
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join()

    def _poll(self, source: StreamEventSource, reader: StreamReader) -> None:
        interval = POLL_INTERVAL_S
        while not self._stopping.is_set():
            try:
                shards = reader.read_shards()
                for shard_id, records in shards.items():
                    passed = [record for record in records if passes(source.filter_patterns, record)]
                    for start in range(0, len(passed), source.batch_size):
                        self._deliver(
                            source, reader.stream_arn, shard_id, passed[start : start + source.batch_size]
                        )
                # Four times a second while the table is written to; an idle `make dev` (or the
                # e2e session's stack) backs off to once a second, sparing the shared cores.
                interval = POLL_INTERVAL_S if shards else min(interval * 2, IDLE_POLL_INTERVAL_S)
                if not shards:
                    self._stopping.wait(interval)
            except Exception:
                if not self._stopping.is_set():
                    logger.exception("stream poller for %s failed", source.function_id)
                    self._stopping.wait(1)

    def _deliver(
        self, source: StreamEventSource, stream_arn: str, shard_id: str, batch: list[dict[str, Any]]
    ) -> None:
        """Invoke the function with ``batch`` until it succeeds, splitting and retrying as the
        source says; what still fails goes to its OnFailure destination. Records keep their order."""
        pending: list[tuple[list[dict[str, Any]], int]] = [(batch, 0)]  # (records, retries used)
        while pending and not self._stopping.is_set():
            records, retries = pending.pop(0)
            try:
                self._functions[source.function_id].invoke({"Records": records})
                continue
            except Exception:
                logger.exception(
                    "function %s failed on a batch of %d stream records", source.function_id, len(records)
                )
            if source.bisect_batch_on_function_error and len(records) > 1:
                half = len(records) // 2
                pending[:0] = [(records[:half], retries), (records[half:], retries)]
            elif source.maximum_retry_attempts < 0 or retries < source.maximum_retry_attempts:
                self._stopping.wait(min(RETRY_DELAY_S * 2**retries, MAX_RETRY_DELAY_S))
                pending.insert(0, (records, retries + 1))
            else:
                self._discard(source, stream_arn, shard_id, records, invocations=retries + 1)

    def _discard(
        self,
        source: StreamEventSource,
        stream_arn: str,
        shard_id: str,
        records: list[dict[str, Any]],
        invocations: int,
    ) -> None:
        if source.on_failure_queue_id is None:
            logger.error(
                "%s: %d stream records discarded (no OnFailure destination)", source.function_id, len(records)
            )
            return
        function_name = self._functions[source.function_id].spec.name
        message = on_failure_record(
            f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}",
            stream_arn,
            shard_id,
            records,
            invocations,
        )
        queue_url = self._emulator.resources[source.on_failure_queue_id].url
        self._emulator.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))
        logger.error(
            "%s: %d stream records failed %d times; described in %s",
            source.function_id,
            len(records),
            invocations,
            source.on_failure_queue_id,
        )


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A record of GetRecords (as boto3 returns it) as Lambda puts it in an event's `Records`."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            change[image] = {name: _json_value(value) for name, value in change[image].items()}
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", REGION),
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


def _json_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """An attribute value as JSON carries it (binary values in base64, as in Lambda's events)."""
    ((kind, data),) = value.items()
    if kind == "B":
        return {kind: base64.b64encode(data).decode()}
    if kind == "BS":
        return {kind: [base64.b64encode(item).decode() for item in data]}
    if kind == "M":
        return {kind: {name: _json_value(item) for name, item in data.items()}}
    if kind == "L":
        return {kind: [_json_value(item) for item in data]}
    return {kind: data}


def on_failure_record(
    function_arn: str,
    stream_arn: str,
    shard_id: str,
    records: list[dict[str, Any]],
    invocations: int,
) -> dict[str, Any]:
    """What Lambda sends to a stream source's OnFailure destination: where the failed records are."""

    def arrival(record: dict[str, Any]) -> str:
        seconds = record["dynamodb"].get("ApproximateCreationDateTime") or 0
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": invocations,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(records[0]),
            "approximateArrivalOfLastRecord": arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }
