from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.emulator import Emulator, start_emulator
from devstack.runtime import LambdaFunction
from devstack.stream_poller import StreamPoller
from devstack.template import REGION, Template

WriteProject = Callable[[str, dict[str, str]], Path]  # the conftest fixture

TEMPLATE = """\
    Resources:
      Items:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
          KeySchema: [{AttributeName: PK, KeyType: HASH}]
          StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      Failures:
        Type: AWS::SQS::Queue
      Worker:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: worker/
          Handler: app.handler
          Events:
            Changes:
              Type: DynamoDB
              Properties:
                Stream: !GetAtt Items.StreamArn
                StartingPosition: LATEST
                BatchSize: 2
                MaximumRetryAttempts: 1
                BisectBatchOnFunctionError: true
                DestinationConfig:
                  OnFailure: {Type: SQS, Destination: !GetAtt Failures.Arn}
                FilterCriteria:
                  Filters:
                    - Pattern: '{"dynamodb": {"NewImage": {"kind": {"S": ["job"]}}}}'
"""
# Records each batch it gets (the PKs); raises on a batch holding "poison", and once on "flaky".
HANDLER = """\
    import json
    from pathlib import Path

    CALLS = Path(__file__).with_name("calls.jsonl")
    FLAKED = Path(__file__).with_name("flaked")

    def handler(event, context):
        with CALLS.open("a") as calls:
            calls.write(json.dumps(event["Records"]) + "\\n")
        keys = [record["dynamodb"]["Keys"]["PK"]["S"] for record in event["Records"]]
        if "poison" in keys:
            raise RuntimeError("cannot process poison")
        if "flaky" in keys and not FLAKED.exists():
            FLAKED.touch()
            raise RuntimeError("fails the first time")
"""


@pytest.fixture
def worker(write_project: WriteProject) -> Iterator[tuple[Emulator, Template, Path]]:
    template_path = write_project(TEMPLATE, {"worker/app.py": HANDLER})
    emulator = start_emulator(Template.load(template_path))
    yield emulator, emulator.template, template_path.parent / "worker" / "calls.jsonl"
    emulator.stop()


def _batches(calls_file: Path) -> list[list[dict[str, Any]]]:
    return [json.loads(line) for line in calls_file.read_text().splitlines()] if calls_file.exists() else []


def _keys(calls_file: Path) -> list[list[str]]:
    return [[record["dynamodb"]["Keys"]["PK"]["S"] for record in batch] for batch in _batches(calls_file)]


def _put(emulator: Emulator, key: str, kind: str = "job") -> None:
    emulator.client("dynamodb").put_item(
        TableName=emulator.resources["Items"].name, Item={"PK": {"S": key}, "kind": {"S": kind}}
    )


def _run(emulator: Emulator, template: Template, write: Callable[[], None], done: Callable[[], bool]) -> None:
    functions = {"Worker": LambdaFunction(template.function("Worker"))}
    poller = StreamPoller(emulator, template.stream_sources(), functions)
    poller.start()
    try:
        write()
        deadline = time.monotonic() + 20
        while not done() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # anything more that would (wrongly) arrive
    finally:
        poller.stop()


def _failure_messages(emulator: Emulator) -> list[dict[str, Any]]:
    messages = (
        emulator.client("sqs")
        .receive_message(
            QueueUrl=emulator.resources["Failures"].url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        .get("Messages", [])
    )
    return [json.loads(message["Body"]) for message in messages]


def test_changes_after_start_reach_the_function_filtered_in_order_and_in_batches(worker: Any) -> None:
    emulator, template, calls_file = worker
    _put(emulator, "before-start")

    def write() -> None:
        for key, kind in [("j1", "job"), ("n1", "note"), ("j2", "job"), ("j3", "job"), ("n2", "note")]:
            _put(emulator, key, kind)
        _put(emulator, "j1", "job")  # the same item again: no change, no record

    _run(emulator, template, write, lambda: sum(map(len, _keys(calls_file))) >= 3)

    keys = _keys(calls_file)
    assert [key for batch in keys for key in batch] == ["j1", "j2", "j3"]
    assert all(1 <= len(batch) <= 2 for batch in keys)
    record = _batches(calls_file)[0][0]
    table = emulator.resources["Items"].name
    stream_arn = emulator.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    assert record["eventSourceARN"] == stream_arn
    assert (record["eventSource"], record["eventName"], record["awsRegion"]) == (
        "aws:dynamodb",
        "INSERT",
        REGION,
    )
    change = record["dynamodb"]
    assert change["Keys"] == {"PK": {"S": "j1"}}
    assert change["NewImage"] == {"PK": {"S": "j1"}, "kind": {"S": "job"}}
    assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES" and change["SequenceNumber"].isdigit()
    assert isinstance(change["ApproximateCreationDateTime"], int)
    assert _failure_messages(emulator) == []


def test_a_failing_record_is_isolated_retried_and_then_described_in_the_failure_queue(worker: Any) -> None:
    emulator, template, calls_file = worker

    def write() -> None:  # in one transaction: the poller reads the four records at once
        table = emulator.resources["Items"].name
        emulator.client("dynamodb").transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"PK": {"S": key}, "kind": {"S": "job"}}}}
                for key in ("a", "poison", "b", "flaky")
            ]
        )

    _run(emulator, template, write, lambda: ["flaky"] in _keys(calls_file)[-1:])

    assert _keys(calls_file) == [
        ["a", "poison"],  # fails: split in two (no retry used)
        ["a"],
        ["poison"],  # fails alone
        ["poison"],  # its one retry (MaximumRetryAttempts: 1); then described, and the stream moves on
        ["b", "flaky"],  # fails (once): split
        ["b"],
        ["flaky"],  # succeeds: nothing else is described
    ]
    (failure,) = _failure_messages(emulator)
    poison = _batches(calls_file)[2][0]
    info = failure["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison["dynamodb"]["SequenceNumber"]
    assert (info["batchSize"], info["streamArn"]) == (1, poison["eventSourceARN"])
    assert info["shardId"].startswith("shardId-")
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert failure["requestContext"]["functionArn"].endswith(":function:leads-local-worker")
    assert failure["responseContext"]["functionError"] == "Unhandled"
