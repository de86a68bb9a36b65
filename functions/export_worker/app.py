"""The export worker: SQS messages naming export jobs become CSV files in S3.

One job per message (batch size 1). A job is claimed by one run at a time, written as a
multipart upload, and continued by a new message when this run's 15 minutes run short; a
redelivered message finds it held or finished and does nothing (``leads_shared.export_worker``).
A message is reported failed only when a job handed over could not queue its continuation."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from leads_shared import export_worker
from leads_shared.data import (
    get_blob_store,
    get_directory_store,
    get_export_queue,
    get_export_store,
    get_lead_store,
)
from leads_shared.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord, context: LambdaContext) -> None:
    try:
        body = json.loads(record.body)
    except ValueError:
        body = None
    job = export_worker.run_message(
        body,
        get_export_store(),
        get_lead_store(),
        get_directory_store(),
        get_blob_store(),
        get_export_queue(),
        context.get_remaining_time_in_millis,
    )
    if job is not None:
        logger.info("export", extra={"export_id": job.export_id, "status": job.status, "rows": job.progress})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    answer = process_partial_response(
        event=event,
        record_handler=lambda record: record_handler(record, context),
        processor=processor,
        context=context,
    )
    return dict(answer)
