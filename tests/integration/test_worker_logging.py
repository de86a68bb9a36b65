"""The queue-fed workers at the log level they run at on Lambda (INFO; the suite runs at WARNING):
a log line whose `extra` names a field of Python's LogRecord (`created`, `message`...) raises,
which would fail every message after its work was done, and send it to the dead-letter queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from leads_shared.observability import logger
from tests.devstack.emulator import Emulator
from tests.devstack.runtime import LambdaFunction
from tests.integration.test_events import SQS_EVENT_FILES, load_event


@pytest.fixture
def info_logs() -> Iterator[None]:
    previous = logger.log_level
    logger.setLevel("INFO")
    try:
        yield
    finally:
        logger.setLevel(previous)


@pytest.mark.parametrize("path", SQS_EVENT_FILES, ids=lambda p: p.name)
def test_sample_sqs_event_is_processed_at_info_level(
    path, emulator: Emulator, demo_data: None, info_logs: None
):
    event = load_event(path)
    queue_of = {emulator.resources[s.queue_id].arn: s.function_id for s in emulator.template.sqs_sources()}
    function = LambdaFunction(emulator.template.function(queue_of[event["Records"][0]["eventSourceARN"]]))

    assert function.invoke(event) == {"batchItemFailures": []}
