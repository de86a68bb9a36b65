from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
import requests
from botocore.config import Config

from devstack import emulator as emulator_module
from devstack.emulator import Emulator, restore_resources, start_emulator
from devstack.template import Template, load_template

WriteProject = Callable[[str, dict[str, str]], Path]  # the conftest fixture
PRESIGNING = Config(signature_version="s3v4", s3={"addressing_style": "path"})  # as the layer signs


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    started = start_emulator(Template.load())
    yield started
    started.stop()


def _key_schema(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(item["AttributeName"], item["KeyType"]) for item in items]


def test_table_has_the_template_key_schema_gsis_and_ttl(emulator: Emulator) -> None:
    expected = load_template()["Resources"]["LeadsTable"]["Properties"]
    dynamodb = emulator.client("dynamodb")
    table = dynamodb.describe_table(TableName=emulator.resources["LeadsTable"].name)["Table"]

    assert _key_schema(table["KeySchema"]) == _key_schema(expected["KeySchema"])
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        (a["AttributeName"], a["AttributeType"]) for a in expected["AttributeDefinitions"]
    }
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {index["IndexName"] for index in expected["GlobalSecondaryIndexes"]}
    for index in expected["GlobalSecondaryIndexes"]:
        created = indexes[index["IndexName"]]
        assert _key_schema(created["KeySchema"]) == _key_schema(index["KeySchema"])
        assert created["Projection"]["ProjectionType"] == index["Projection"]["ProjectionType"]
        assert sorted(created["Projection"].get("NonKeyAttributes", [])) == sorted(
            index["Projection"].get("NonKeyAttributes", [])
        )
    assert table["BillingModeSummary"]["BillingMode"] == expected["BillingMode"]
    ttl = dynamodb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    assert ttl == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": expected["TimeToLiveSpecification"]["AttributeName"],
    }


def test_bucket_exists_with_versioning(emulator: Emulator) -> None:
    bucket = emulator.resources["DataBucket"].name
    assert bucket == "leads-data-123456789012-us-east-1-dev"  # the template's BucketName, resolved
    assert emulator.client("s3").get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_presigned_put_get_and_post_work_against_the_emulator(emulator: Emulator) -> None:
    bucket = emulator.resources["DataBucket"].name
    s3 = emulator.client("s3", config=PRESIGNING)

    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "tmp/a.csv"}, ExpiresIn=60
    )
    assert put_url.startswith(f"{emulator.endpoint_url}/{bucket}/tmp/a.csv?")
    assert "X-Amz-Signature=" in put_url
    assert requests.put(put_url, data=b"name,email\n", timeout=10).status_code == 200

    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "tmp/a.csv"}, ExpiresIn=60
    )
    download = requests.get(get_url, timeout=10)
    assert (download.status_code, download.content) == (200, b"name,email\n")

    post = s3.generate_presigned_post(
        bucket, "tmp/b.csv", Conditions=[["content-length-range", 1, 1024]], ExpiresIn=60
    )
    assert post["url"] == f"{emulator.endpoint_url}/{bucket}"
    upload = requests.post(post["url"], data=post["fields"], files={"file": ("b.csv", b"x,y\n")}, timeout=10)
    assert upload.status_code == 204
    assert s3.get_object(Bucket=bucket, Key="tmp/b.csv")["Body"].read() == b"x,y\n"


def test_queues_and_bucket_notifications_follow_the_template(write_project: WriteProject) -> None:
    template_path = write_project(
        """\
        Resources:
          Uploads:
            Type: AWS::S3::Bucket
            Properties:
              NotificationConfiguration:
                QueueConfigurations:
                  - Event: "s3:ObjectCreated:*"
                    Queue: !GetAtt ImportQueue.Arn
                    Filter: {S3Key: {Rules: [{Name: prefix, Value: imports/}]}}
          ImportQueue:
            Type: AWS::SQS::Queue
            Properties:
              VisibilityTimeout: 45
              RedrivePolicy: {deadLetterTargetArn: !GetAtt ImportDeadLetters.Arn, maxReceiveCount: 3}
          ImportDeadLetters:
            Type: AWS::SQS::Queue
            Properties: {QueueName: import-dead-letters}
        """,
        {},
    )
    emulator = start_emulator(Template.load(template_path))
    try:
        queue = emulator.resources["ImportQueue"]
        sqs = emulator.client("sqs")
        attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
        assert attributes["VisibilityTimeout"] == "45"
        assert json.loads(attributes["RedrivePolicy"]) == {
            "deadLetterTargetArn": emulator.resources["ImportDeadLetters"].arn,
            "maxReceiveCount": 3,
        }
        assert emulator.resources["ImportDeadLetters"].name == "import-dead-letters"

        s3 = emulator.client("s3")
        s3.put_object(Bucket=emulator.resources["Uploads"].name, Key="other/skip.csv", Body=b"-")
        s3.put_object(Bucket=emulator.resources["Uploads"].name, Key="imports/leads.csv", Body=b"-")
        messages = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=1)[
            "Messages"
        ]
        keys = [
            unquote_plus(record["s3"]["object"]["key"])  # S3 (and moto) URL-encode keys
            for message in messages
            for record in json.loads(message["Body"]).get("Records", [])
        ]
        assert keys == ["imports/leads.csv"]
    finally:
        emulator.stop()


def test_starting_an_emulator_starts_from_an_empty_state() -> None:
    first = start_emulator(Template.load())
    first.client("s3").create_bucket(Bucket="left-over")
    first.stop()
    again = start_emulator(Template.load())
    try:
        buckets = {bucket["Name"] for bucket in again.client("s3").list_buckets()["Buckets"]}
        assert buckets == {again.resources["DataBucket"].name}
    finally:
        again.stop()


def test_an_emulator_gets_back_what_another_one_of_its_process_wiped(write_project: WriteProject) -> None:
    """moto's backends are one per process: starting a second emulator (the local stack's tests
    do) resets the first one's; ``restore_resources`` makes its tables, bucket and queues again,
    and queues keep their dead-letter redrive."""
    first = start_emulator(Template.load())
    try:
        start_emulator(Template.load(write_project(STREAM_TABLE, {}))).stop()  # another template
        assert first.client("s3").list_buckets().get("Buckets", []) == []  # wiped
        restore_resources(first)
        assert first.client("s3").list_buckets()["Buckets"][0]["Name"] == first.resources["DataBucket"].name
        assert first.resources["LeadsTable"].name in first.client("dynamodb").list_tables()["TableNames"]
        redriven = [
            resource
            for logical_id, resource in first.resources.items()
            if logical_id in first.template.resources_of_type("AWS::SQS::Queue")
            and "RedrivePolicy"
            in first.client("sqs").get_queue_attributes(QueueUrl=resource.url, AttributeNames=["All"])[
                "Attributes"
            ]
        ]
        assert redriven, "no queue has its dead-letter queue again"
    finally:
        first.stop()


def test_a_cancelled_transaction_leaves_every_item_as_it_was(emulator: Emulator) -> None:
    """The emulator backs up only the items a transaction touches; a rollback still restores all."""
    dynamodb = emulator.client("dynamodb")
    table = emulator.resources["LeadsTable"].name
    dynamodb.put_item(TableName=table, Item={"PK": {"S": "a"}, "SK": {"S": "x"}, "n": {"N": "1"}})
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Update": {"TableName": table, "Key": {"PK": {"S": "a"}, "SK": {"S": "x"}},
                            "UpdateExpression": "SET n = :two",
                            "ExpressionAttributeValues": {":two": {"N": "2"}}}},
                {"Put": {"TableName": table, "Item": {"PK": {"S": "b"}, "SK": {"S": "x"}}}},
                {"Delete": {"TableName": table, "Key": {"PK": {"S": "c"}, "SK": {"S": "x"}},
                            "ConditionExpression": "attribute_exists(PK)"}},
            ]
        )  # fmt: skip
    items = dynamodb.scan(TableName=table)["Items"]
    assert items == [{"PK": {"S": "a"}, "SK": {"S": "x"}, "n": {"N": "1"}}]


STREAM_TABLE = """\
    Resources:
      Items:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
          KeySchema: [{AttributeName: PK, KeyType: HASH}]
          StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
    """


@pytest.fixture
def streamed(write_project: WriteProject) -> Iterator[Emulator]:
    started = start_emulator(Template.load(write_project(STREAM_TABLE, {})))
    yield started
    started.stop()


def _stream_events(emulator: Emulator, shard_iterator_type: str = "TRIM_HORIZON") -> list[tuple[str, str]]:
    """(event name, PK) of the table's stream records, from the start."""
    table = emulator.resources["Items"].name
    arn = emulator.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = emulator.client("dynamodbstreams")
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=shard_iterator_type
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return [(record["eventName"], record["dynamodb"]["Keys"]["PK"]["S"]) for record in records]


def test_the_stream_has_a_record_per_change_and_none_for_a_cancelled_transaction(streamed: Emulator) -> None:
    """As DynamoDB: a write that changes nothing makes no record; a transaction makes its records
    once committed, one per item it changed, and none when cancelled (moto alone streams its
    writes as it goes, then the rollback's)."""
    dynamodb = streamed.client("dynamodb")
    table = streamed.resources["Items"].name
    item = {"PK": {"S": "a"}, "n": {"N": "1"}}
    dynamodb.put_item(TableName=table, Item=item)
    dynamodb.put_item(TableName=table, Item=item)  # the same again: nothing changed
    dynamodb.put_item(TableName=table, Item={"PK": {"S": "z"}})
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"PK": {"S": "b"}}}},
                {"Update": {"TableName": table, "Key": {"PK": {"S": "a"}}, "UpdateExpression": "SET n = :two",
                            "ExpressionAttributeValues": {":two": {"N": "2"}}}},
                {"ConditionCheck": {"TableName": table, "Key": {"PK": {"S": "c"}},
                                    "ConditionExpression": "attribute_exists(PK)"}},
            ]
        )  # fmt: skip
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"PK": {"S": "b"}}}},
            {"Update": {"TableName": table, "Key": {"PK": {"S": "a"}}, "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"ConditionCheck": {"TableName": table, "Key": {"PK": {"S": "z"}},
                                "ConditionExpression": "attribute_exists(PK)"}},
        ]
    )  # fmt: skip
    dynamodb.delete_item(TableName=table, Key={"PK": {"S": "b"}})

    assert _stream_events(streamed) == [
        ("INSERT", "a"),
        ("INSERT", "z"),
        ("INSERT", "b"),
        ("MODIFY", "a"),
        ("REMOVE", "b"),
    ]


def test_a_stream_keeps_its_last_records(streamed: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulator_module, "STREAM_RECORDS_KEPT", 3)
    dynamodb = streamed.client("dynamodb")
    table = streamed.resources["Items"].name
    for key in "abcde":
        dynamodb.put_item(TableName=table, Item={"PK": {"S": key}})

    assert _stream_events(streamed) == [("INSERT", "c"), ("INSERT", "d"), ("INSERT", "e")]
    assert _stream_events(streamed, "LATEST") == []
