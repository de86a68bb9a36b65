"""Reading one partition of an index in its order, a page at a time: all of it, or only its first
``count`` items (a list page reads no further than its end). Any store's index may be read so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from leads_shared.data.dynamo import av, query_pages, store_errors

if TYPE_CHECKING:
    from leads_shared.keys import IndexPartition

# DynamoDB ends a page at 1 MB anyway (~5,000 narrow rows); the Limit keeps the local emulator,
# which has no such bound, from answering a whole big tenant in one response.
PAGE_ITEMS = 5000


def index_pages(
    client: Any,
    table: str,
    partition: IndexPartition,
    *,
    forward: bool,
    count: int | None,
    start: dict[str, str] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Items of one index partition in index order, page by page: the first ``count``, or all
    (after the key ``start``, when given: ``IndexPartition.start_after``)."""
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": partition.index,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": partition.attribute},
        "ExpressionAttributeValues": {":pk": av(partition.value)},
        "ScanIndexForward": forward,
        "Limit": count if count is not None else PAGE_ITEMS,
    }
    if start is not None:
        request["ExclusiveStartKey"] = {name: av(value) for name, value in start.items()}
    seen = 0
    with store_errors():
        for page in query_pages(client, **request):
            items = page.get("Items", [])
            if count is not None:
                items = items[: count - seen]
            seen += len(items)
            yield items
            if count is not None:
                if seen >= count:
                    return
                request["Limit"] = count - seen
