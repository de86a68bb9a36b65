"""Email ingest: SQS messages carrying S3 events of the inbound prefix (where SES stores what the
drop-box addresses receive). Each message's objects are captured by the layer; a message whose
processing raised (a store failure) is reported back and delivered again, up to the queue's
maxReceiveCount, then kept in the dead-letter queue. What cannot be stored (too large, not an
email, not a drop-box address) is recorded as rejected and does not raise."""

import json

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from leads_shared import email_capture, s3_events
from leads_shared.config import get_settings
from leads_shared.data import get_blob_store, get_mail_store, get_record_store, get_tenant_store
from leads_shared.observability import logger, metrics, tracer

# Failed messages are always reported (never raised), even when the whole batch failed: only
# they are delivered again, and the answer says which.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
METRIC_OF = {"stored": "EmailCaptured", "duplicate": "EmailDuplicate", "rejected": "EmailRejected"}


def inbox() -> email_capture.Inbox:
    domain = get_settings().inbound_domain
    if not domain:  # a deployment error: fail loudly, the messages wait in the queue
        raise RuntimeError("INBOUND_DOMAIN is not set")
    return email_capture.Inbox(
        domain, get_blob_store(), get_mail_store(), get_record_store(), get_tenant_store()
    )


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    for stored in s3_events.created_objects(json.loads(record.body)):
        for result in email_capture.ingest_object(stored.bucket, stored.key, stored.size, inbox()):
            metrics.add_metric(name=METRIC_OF[result.outcome], unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
