"""The import worker: S3 upload events (through SQS) become imported leads.

Each SQS message carries an S3 event; each of its records is one uploaded file. A message whose
import failed for a passing reason (DynamoDB or S3 busy) is reported as a batch item failure and
delivered again (then to the dead-letter queue); the import resumes where it stopped and counts
nothing twice (see ``leads_shared.import_worker``)."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from leads_shared import import_worker, s3_events
from leads_shared.data import get_blob_store, get_directory_store, get_import_store, get_lead_store
from leads_shared.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    for uploaded in s3_events.created_objects(json.loads(record.body)):  # an s3:TestEvent has none
        job = import_worker.run_upload(
            uploaded.key, get_import_store(), get_lead_store(), get_directory_store(), get_blob_store()
        )
        if job is not None:
            logger.info(
                "import",
                extra={"import_id": job.import_id, "status": job.status, "leads_created": job.created},
            )
            metrics.add_metric(name="LeadsImported", unit="Count", value=job.created)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    answer = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(answer)
