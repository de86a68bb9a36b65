"""Directory sync: records of the table's stream (only changes of user items, and trashed leads
removed by TTL, reach it: the template's FilterCriteria). A renamed user's new name is written on
the leads assigned to them (``leads_shared.directory_sync``); a trashed lead's children go after
it (``leads_shared.trash_expiry``). An error fails the whole batch: the stream delivers it again
(split in two with BisectBatchOnFunctionError), up to MaximumRetryAttempts, then its description
goes to the dead-letter queue. Redelivery is safe: leads showing the name already are skipped,
and an expired lead's partition already emptied is only read."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from leads_shared import directory_sync, trash_expiry
from leads_shared.data import get_directory_store, get_lead_store
from leads_shared.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> None:
    records = list(DynamoDBStreamEvent(event).records)
    report = directory_sync.show_new_names(
        records,
        get_lead_store(),
        get_directory_store(),
        context.get_remaining_time_in_millis,
    )
    if report.users:
        logger.info(
            "new names shown on leads",
            extra={
                "users": report.users,
                "leads_renamed": report.leads_renamed,
                "leads_skipped": report.leads_skipped,
            },
        )
    metrics.add_metric(name="LeadsRenamed", unit=MetricUnit.Count, value=report.leads_renamed)
    removed = trash_expiry.remove_children(records, get_lead_store())
    if removed:
        logger.info("children of expired leads removed", extra={"items": removed})
