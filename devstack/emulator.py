"""An in-process moto server with the template's tables, buckets and queues created on it.

Moto keeps its state per process: starting an emulator resets that state, so run one at a time.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import copy
import json
import logging
import threading
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.handlers
import moto.dynamodb.models as moto_dynamodb
import requests
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto.core.botocore_stubber import MockRawResponse
from moto.core.model_instances import model_data
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodbstreams.models import DynamoDBStreamsBackend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder, run_wsgi_app

from devstack import moto_speed
from devstack.template import ACCOUNT_ID, REGION, LocalResource, Template, TemplateError

logger = logging.getLogger(__name__)

TABLE = "AWS::DynamoDB::Table"
BUCKET = "AWS::S3::Bucket"
QUEUE = "AWS::SQS::Queue"

_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
)
_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
)
# A table stream keeps its last records and its shard iterators this long here (DynamoDB: 24 hours
# of records, iterators valid 15 minutes); moto keeps both forever.
STREAM_RECORDS_KEPT = 10_000
SHARD_ITERATOR_LIFETIME_S = 15 * 60

# DynamoDB requests are applied one at a time (`_AtomicDynamoDB`), and so are the writes this
# process makes straight to moto's backend (`direct_dynamodb`): one lock, as moto's backends are
# one per process (one emulator runs at a time).
_DYNAMODB_LOCK = threading.Lock()
_IN_PROCESS: set[str] = set()  # the endpoint URLs of the emulators running in this process
_APPS: dict[str, Any] = {}  # endpoint URL -> the emulator's app, for requests made in-process
# The app runs on threads of its own, as behind the socket, not on the caller's: on top of the
# caller's deep stack (a function, boto3), moto's loops can call right across the end of one of
# CPython's frame-stack chunks, which maps and unmaps memory on every call (measured: an import
# test went from 25 s to 190 s, mostly in the kernel). Threads are made as needed: long polls
# (SQS, each queue's poller) hold one each.
_APP_THREADS = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="emulator")


@dataclass
class Emulator:
    endpoint_url: str
    template: Template  # bound to endpoint_url, so queue Refs resolve to emulator URLs
    resources: dict[str, LocalResource]  # logical id -> local name, ARN and (queues) URL
    _server: ThreadedMotoServer
    # One client per service and options: making one loads botocore's models (a quarter of a
    # second), and clients may be shared between threads.
    _clients: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)

    @property
    def client_environment(self) -> dict[str, str]:
        """What boto3 (and the layer's plain `boto3.client(...)`) needs to talk to the emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }

    def client(self, service: str, **kwargs: Any) -> Any:
        key = (service, *sorted(kwargs.items()))
        if key not in self._clients:
            self._clients[key] = boto3.session.Session().client(
                service,
                endpoint_url=self.endpoint_url,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                **kwargs,
            )
        return self._clients[key]

    def stop(self) -> None:
        _IN_PROCESS.discard(self.endpoint_url)
        _APPS.pop(self.endpoint_url, None)
        self._server.stop()


class _AtomicDynamoDB:
    """WSGI middleware: DynamoDB applies each request atomically, but moto's backend is not
    thread-safe (concurrent transactions fail inside moto with "dictionary changed size").
    So DynamoDB requests are applied one at a time; clients still race *between* requests, as
    they do on AWS. Other services (SQS long polls) stay concurrent."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = _DYNAMODB_LOCK

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        # DynamoDB, and its streams (which read the same tables' records).
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(("DynamoDB_", "DynamoDBStreams_")):
            return self._app(environ, start_response)
        with self._lock:
            moto_speed.note_request(target)
            # Consume the whole response inside the lock: the request is applied by then.
            return list(self._app(environ, start_response))


def _serve_in_process(endpoint_url: str, app: Any) -> None:
    """boto3 clients of this process (the functions', the tests', the local stack's pollers) reach
    the emulator without a socket: their request goes to the same WSGI app as the server's, as
    the bytes and headers it would have sent (signed, serialized), and botocore parses the answer
    as it would parse the server's. A request costs about half (no HTTP client, server thread or
    connection; measured: a GetItem 7 ms, 4 ms in-process). Anything else (curl on a presigned
    URL, another process) still comes through the socket."""
    _APPS[endpoint_url] = app
    if not any(entry[1] is _send_in_process for entry in botocore.handlers.BUILTIN_HANDLERS):
        botocore.handlers.BUILTIN_HANDLERS.append(("before-send", _send_in_process))
    # Sessions get the built-in handlers when made: the default one is made again on next use.
    boto3.DEFAULT_SESSION = None


def _send_in_process(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
    """botocore's ``before-send``: an answer ends the request there; None sends it as usual."""
    url = urlsplit(request.url)
    app = _APPS.get(f"{url.scheme}://{url.netloc}")
    if app is None:
        return None
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    environ = EnvironBuilder(
        path=url.path or "/",
        base_url=f"{url.scheme}://{url.netloc}",
        query_string=url.query,
        method=request.method,
        headers={k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()},
        data=body or b"",
    ).get_environ()
    chunks, status, headers = _APP_THREADS.submit(run_wsgi_app, app, environ, buffered=True).result()
    return AWSResponse(
        request.url, int(status.split(" ", 1)[0]), dict(headers.items()), MockRawResponse(b"".join(chunks))
    )


def _snapshot_only_touched_items() -> None:
    """Moto backs up every table a transaction names (a deep copy of the whole table, per item of
    the transaction) to roll back a cancelled one: each transaction costs O(table), which makes
    `make dev` and imports crawl once there are many leads (a 100k-row import timed out). Back up
    the items the transaction touches instead (DynamoDB allows one operation per item, so that is
    all a rollback must restore), and let moto's own backup copy nothing."""
    if getattr(DynamoDBBackend.transact_write_items, "_touched_items_only", False):
        return
    moto_dynamodb.copy = types.SimpleNamespace(  # type: ignore[assignment]
        deepcopy=lambda value, memo=None: value if isinstance(value, Table) else copy.deepcopy(value, memo),
        copy=copy.copy,
    )
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        touched: list[tuple[str, dict[str, Any], Item | None]] = []
        for entry in transact_items:
            try:
                (operation,) = entry.values()
                table = self.tables[operation["TableName"]]
                source = operation["Item"] if "Item" in operation else operation["Key"]
                names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
                key = {name: source[name] for name in names}
            except (KeyError, ValueError, TypeError):
                continue  # malformed: moto refuses it before writing anything
            before = self.get_item(operation["TableName"], key)
            touched.append((operation["TableName"], key, copy.deepcopy(before)))
        # DynamoDB streams what a transaction wrote once it committed, and nothing of a cancelled
        # one; moto would stream each write as it goes, and then the rollback's writes.
        shards = {name: table.stream_shard for name, table in self.tables.items() if table.stream_shard}
        for name in shards:
            self.tables[name].stream_shard = None
        try:
            original(self, transact_items)
        except Exception:
            for table_name, key, before_item in reversed(touched):
                if before_item is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, before_item.to_json()["Attributes"])
            raise
        finally:
            for name, shard in shards.items():
                self.tables[name].stream_shard = shard
        for table_name, key, before_item in touched:
            if table_name in shards:
                shards[table_name].add(before_item, self.get_item(table_name, key))

    transact_write_items._touched_items_only = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _streams_as_dynamodb_keeps_them() -> None:
    """Where moto's table streams differ from DynamoDB's in ways the local stack would notice:

    - a write that changes nothing (the same item put again, a condition check) makes no record;
    - a shard keeps its last STREAM_RECORDS_KEPT records (a reader further behind resumes at the
      oldest one kept, as a reader behind DynamoDB's 24 hours does), and a shard iterator is
      forgotten after 15 minutes: moto keeps every record and every iterator (a poller takes one
      per read) for as long as it runs, so a long `make dev` or a big import grew without bound.

    Transactions stream only once committed: see `_snapshot_only_touched_items`."""
    if getattr(StreamShard.add, "_as_dynamodb", False):
        return
    original_add, original_get = StreamShard.add, StreamShard.get

    def add(self: StreamShard, old: Item | None, new: Item | None) -> None:
        if old is None and new is None:
            return
        if old is not None and new is not None and old.to_json() == new.to_json():
            return
        original_add(self, old, new)
        excess = len(self.items) - STREAM_RECORDS_KEPT
        if excess > 0:  # sequence numbers are the position in items after the starting number
            del self.items[:excess]
            self.starting_sequence_number += excess

    def get(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
        if start < self.starting_sequence_number:
            logger.warning(
                "a reader of %s's stream fell more than %d records behind: resuming at the oldest kept",
                self.table.name,
                STREAM_RECORDS_KEPT,
            )
            start = self.starting_sequence_number
        records: list[dict[str, Any]] = original_get(self, start, quantity)
        return records

    original_get_shard_iterator = DynamoDBStreamsBackend.get_shard_iterator
    original_get_records = DynamoDBStreamsBackend.get_records

    def forget_old_iterators(backend: DynamoDBStreamsBackend, issued_arn: str) -> None:
        issued = backend.__dict__.setdefault("_issued_iterators", collections.deque())
        now = time.monotonic()
        issued.append((now, issued_arn))
        while issued and now - issued[0][0] > SHARD_ITERATOR_LIFETIME_S:
            backend.shard_iterators.pop(issued.popleft()[1], None)

    def get_shard_iterator(self: DynamoDBStreamsBackend, *args: Any, **kwargs: Any) -> Any:
        iterator = original_get_shard_iterator(self, *args, **kwargs)
        forget_old_iterators(self, iterator.arn)
        return iterator

    def get_records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> dict[str, Any]:
        result: dict[str, Any] = original_get_records(self, iterator_arn, limit)
        forget_old_iterators(self, result["NextShardIterator"])
        return result

    add._as_dynamodb = True  # type: ignore[attr-defined]
    StreamShard.add = add  # type: ignore[method-assign]
    StreamShard.get = get  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_shard_iterator = get_shard_iterator  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_records = get_records  # type: ignore[method-assign]


class _EmulatorServer(ThreadedMotoServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The one app behind both ways in: the socket, and boto3 clients of this process.
        self.app = _AtomicDynamoDB(DomainDispatcherApplication(create_backend_app))

    def _server_entry(self) -> None:
        self._server = make_server(
            self._ip_address, self._port, self.app, threaded=True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


def start_emulator(template: Template) -> Emulator:
    """Start moto on 127.0.0.1 (a free port) and create the template's tables, buckets and queues."""
    _snapshot_only_touched_items()
    _streams_as_dynamodb_keeps_them()
    moto_speed.apply()
    server = _EmulatorServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint_url = f"http://{host}:{port}"
    _serve_in_process(endpoint_url, server.app)
    try:
        requests.post(f"{endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
        emulator = Emulator(endpoint_url, template.with_endpoint(endpoint_url), {}, server)
        _create_resources(emulator)
    except BaseException:
        server.stop()
        raise
    _IN_PROCESS.add(endpoint_url)
    return emulator


@contextlib.contextmanager
def direct_dynamodb(endpoint_url: str | None, region: str = REGION) -> Iterator[DynamoDBBackend | None]:
    """moto's DynamoDB backend behind ``endpoint_url``, to write to without HTTP, when an emulator
    of this process serves it (None otherwise: a remote emulator, or AWS): what the block does is
    applied as one request (no request runs meanwhile), and counts as a write for `moto_speed`
    (a Query after it finds the items it wrote). Make no request to the emulator inside the
    block: it would wait for the block to end."""
    if endpoint_url is None or endpoint_url.rstrip("/") not in _IN_PROCESS:
        yield None
        return
    with _DYNAMODB_LOCK:
        moto_speed.note_direct_write()
        try:
            yield dynamodb_backends[ACCOUNT_ID][region]
        finally:
            moto_speed.note_direct_write()  # and whatever a Query kept inside the block is stale


def _create_resources(emulator: Emulator, only_missing: bool = False) -> None:
    """The template's queues, tables and buckets (``only_missing``: those the emulator lacks)."""
    template = emulator.template
    missing = _missing(emulator) if only_missing else None
    created_queues = []
    for resource_type, create in ((QUEUE, _create_queue), (TABLE, _create_table), (BUCKET, _create_bucket)):
        for logical_id in template.resources_of_type(resource_type):
            if missing is None or logical_id in missing:
                emulator.resources[logical_id] = create(emulator, template, logical_id)
                created_queues += [logical_id] if resource_type == QUEUE else []
    for logical_id in created_queues:  # once every dead-letter queue exists
        _apply_redrive_policy(emulator, template, logical_id)


def _missing(emulator: Emulator) -> set[str]:
    tables = set(emulator.client("dynamodb").list_tables()["TableNames"])
    buckets = {bucket["Name"] for bucket in emulator.client("s3").list_buckets().get("Buckets", [])}
    queues = {url.rsplit("/", 1)[-1] for url in emulator.client("sqs").list_queues().get("QueueUrls", [])}
    present = {TABLE: tables, BUCKET: buckets, QUEUE: queues}
    return {
        logical_id
        for resource_type, names in present.items()
        for logical_id in emulator.template.resources_of_type(resource_type)
        if emulator.template.resource(logical_id).name not in names
    }


def restore_resources(emulator: Emulator) -> None:
    """Create again what another emulator of this process wiped: moto's backends are one per
    process, and each emulator starts with a reset (the local stack's own tests start some)."""
    _create_resources(emulator, only_missing=True)


def empty_tables(emulator: Emulator) -> None:
    """Drop and create again every table of the template, empty (for tests that must read a
    whole table and would otherwise read what every earlier test wrote)."""
    dynamodb = emulator.client("dynamodb")
    for logical_id in emulator.template.resources_of_type(TABLE):
        name = emulator.resources[logical_id].name
        if name in dynamodb.list_tables()["TableNames"]:
            dynamodb.delete_table(TableName=name)
        _create_table(emulator, emulator.template, logical_id)
    # moto keeps every table it ever made (and their streams' shards, which name them), for its
    # dashboard (unused here): the dropped ones, with all their items, would stay in memory (a test
    # process's millions of objects, each garbage collection walking them all).
    for model in model_data["dynamodb"].values():
        model.instances_tracked = []  # type: ignore[attr-defined]


def _create_table(emulator: Emulator, template: Template, logical_id: str) -> LocalResource:
    resource = template.resource(logical_id)
    properties = template.resolve(template.properties(logical_id))
    arguments = {key: properties[key] for key in _TABLE_KEYS if key in properties}
    if "StreamSpecification" in properties:
        arguments["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    dynamodb = emulator.client("dynamodb")
    dynamodb.create_table(TableName=resource.name, **arguments)
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=resource.name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    return resource


def _create_bucket(emulator: Emulator, template: Template, logical_id: str) -> LocalResource:
    resource = template.resource(logical_id)
    properties = template.resolve(template.properties(logical_id))
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=resource.name)
    if (properties.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=resource.name, VersioningConfiguration={"Status": "Enabled"})
    if "CorsConfiguration" in properties:
        s3.put_bucket_cors(
            Bucket=resource.name,
            CORSConfiguration={
                "CORSRules": [_cors_rule(rule) for rule in properties["CorsConfiguration"]["CorsRules"]]
            },
        )
    notifications = properties.get("NotificationConfiguration") or {}
    unsupported = set(notifications) - {"QueueConfigurations"}
    if unsupported:
        raise TemplateError(
            f"{logical_id}: the local stack supports only QueueConfigurations, not {unsupported}"
        )
    if notifications:
        s3.put_bucket_notification_configuration(
            Bucket=resource.name,
            NotificationConfiguration={
                "QueueConfigurations": [
                    _queue_notification(config) for config in notifications["QueueConfigurations"]
                ]
            },
        )
    return resource


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    renamed = {"ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
    return {renamed.get(key, key): value for key, value in rule.items()}


def _queue_notification(config: dict[str, Any]) -> dict[str, Any]:
    notification: dict[str, Any] = {"QueueArn": config["Queue"], "Events": [config["Event"]]}
    rules = ((config.get("Filter") or {}).get("S3Key") or {}).get("Rules")
    if rules:
        notification["Filter"] = {"Key": {"FilterRules": rules}}
    return notification


def _create_queue(emulator: Emulator, template: Template, logical_id: str) -> LocalResource:
    resource = template.resource(logical_id)
    properties = template.resolve(template.properties(logical_id))
    attributes = {key: _attribute_value(properties[key]) for key in _QUEUE_ATTRIBUTES if key in properties}
    url = emulator.client("sqs").create_queue(QueueName=resource.name, Attributes=attributes)["QueueUrl"]
    if url != resource.url:
        raise RuntimeError(
            f"queue {logical_id}: emulator URL {url} differs from the template's {resource.url}"
        )
    return resource


def _apply_redrive_policy(emulator: Emulator, template: Template, logical_id: str) -> None:
    redrive_policy = template.resolve(template.properties(logical_id).get("RedrivePolicy"))
    if redrive_policy:
        emulator.client("sqs").set_queue_attributes(
            QueueUrl=emulator.resources[logical_id].url,
            Attributes={"RedrivePolicy": json.dumps(redrive_policy)},
        )


def _attribute_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
