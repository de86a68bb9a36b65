from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.emulator import Emulator, start_emulator
from devstack.poller import SqsPoller
from devstack.runtime import LambdaFunction
from devstack.template import REGION, Template

WriteProject = Callable[[str, dict[str, str]], Path]  # the conftest fixture

TEMPLATE = """\
    Resources:
      JobsQueue:
        Type: AWS::SQS::Queue
        Properties:
          VisibilityTimeout: 1
          RedrivePolicy: {deadLetterTargetArn: !GetAtt JobsDeadLetters.Arn, maxReceiveCount: 2}
      JobsDeadLetters:
        Type: AWS::SQS::Queue
      Worker:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: worker/
          Handler: app.handler
          Events:
            Jobs:
              Type: SQS
              Properties:
                Queue: !GetAtt JobsQueue.Arn
                BatchSize: 5
                FunctionResponseTypes: [ReportBatchItemFailures]
"""
# Records every record it sees; fails the "bad" ones; raises once on a batch holding "crash".
HANDLER = """\
    import json
    from pathlib import Path

    CALLS = Path(__file__).with_name("calls.jsonl")
    CRASHED = Path(__file__).with_name("crashed")

    def handler(event, context):
        with CALLS.open("a") as calls:
            for record in event["Records"]:
                calls.write(json.dumps(record) + "\\n")
        if any(record["body"] == "crash" for record in event["Records"]) and not CRASHED.exists():
            CRASHED.touch()
            raise RuntimeError("first delivery fails")
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}
                                      for record in event["Records"] if record["body"].startswith("bad")]}
"""


@pytest.fixture
def worker(write_project: WriteProject) -> Iterator[tuple[Emulator, Template, Path]]:
    template_path = write_project(TEMPLATE, {"worker/app.py": HANDLER})
    emulator = start_emulator(Template.load(template_path))
    yield emulator, emulator.template, template_path.parent / "worker" / "calls.jsonl"
    emulator.stop()


def _run_poller(emulator: Emulator, template: Template, done: Callable[[], bool]) -> None:
    functions = {"Worker": LambdaFunction(template.function("Worker"))}
    poller = SqsPoller(emulator, template.sqs_sources(), functions)
    poller.start()
    try:
        deadline = time.monotonic() + 20
        while not done() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        poller.stop()


def _calls(calls_file: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in calls_file.read_text().splitlines()] if calls_file.exists() else []


def _queue_bodies(emulator: Emulator, logical_id: str) -> list[str]:
    messages = (
        emulator.client("sqs")
        .receive_message(
            QueueUrl=emulator.resources[logical_id].url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        .get("Messages", [])
    )
    return sorted(message["Body"] for message in messages)


def test_partial_batch_failure_keeps_failed_messages_until_the_dead_letter_queue(worker: Any) -> None:
    emulator, template, calls_file = worker
    sqs = emulator.client("sqs")
    queue = emulator.resources["JobsQueue"]
    for body in ("good-1", "bad-1", "good-2"):
        sqs.send_message(
            QueueUrl=queue.url,
            MessageBody=body,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "job"}},
        )

    def bad_one_exhausted() -> bool:
        return [call["body"] for call in _calls(calls_file)].count("bad-1") >= 2

    _run_poller(emulator, template, bad_one_exhausted)

    calls = _calls(calls_file)
    assert sorted(call["body"] for call in calls if call["body"].startswith("good")) == ["good-1", "good-2"]
    assert [call["attributes"]["ApproximateReceiveCount"] for call in calls if call["body"] == "bad-1"] == [
        "1",
        "2",
    ]
    record = calls[0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue.arn
    assert record["awsRegion"] == REGION
    assert record["messageAttributes"]["kind"]["stringValue"] == "job"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert {"messageId", "receiptHandle", "md5OfBody"} <= set(record)
    time.sleep(1.2)  # past the visibility timeout: the third receive moves bad-1 to the dead-letter queue
    assert _queue_bodies(emulator, "JobsQueue") == []
    assert _queue_bodies(emulator, "JobsDeadLetters") == ["bad-1"]


def test_a_raising_handler_deletes_none_of_its_batch(worker: Any) -> None:
    emulator, template, calls_file = worker
    sqs = emulator.client("sqs")
    for body in ("crash", "fine"):
        sqs.send_message(QueueUrl=emulator.resources["JobsQueue"].url, MessageBody=body)

    def both_redelivered() -> bool:
        bodies = [call["body"] for call in _calls(calls_file)]
        return bodies.count("crash") >= 2 and bodies.count("fine") >= 2

    _run_poller(emulator, template, both_redelivered)

    bodies = [call["body"] for call in _calls(calls_file)]
    assert bodies.count("fine") == 2  # delivered with the failing batch, then once more
    assert _queue_bodies(emulator, "JobsQueue") == []
    assert _queue_bodies(emulator, "JobsDeadLetters") == []
