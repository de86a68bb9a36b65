from __future__ import annotations

import copy
from typing import Any

import pytest

from devstack.gateway import rule_path
from devstack.template import (
    ACCOUNT_ID,
    REGION,
    TEMPLATE_PATH,
    StreamEventSource,
    Template,
    TemplateError,
    load_template,
)


def make_template(resources: dict[str, Any], **sections: Any) -> Template:
    document = {"Resources": resources, **sections}
    return Template(document, TEMPLATE_PATH.parent, {}, endpoint_url="http://127.0.0.1:4566")


def test_short_tags_become_long_forms() -> None:
    document = load_template()
    variables = document["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["TABLE_NAME"] == {"Ref": "LeadsTable"}
    assert variables["JWT_SECRET"] == {
        "Fn::If": ["HasJwtSecret", {"Ref": "JwtSecret"}, {"Ref": "AWS::NoValue"}]
    }
    assert document["Conditions"]["HasJwtSecret"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "JwtSecret"}, ""]}]}
    access_log = document["Resources"]["LeadsApi"]["Properties"]["AccessLogSetting"]
    assert access_log["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}


def test_function_environment_merges_globals_and_resolves_parameters() -> None:
    environment = Template.load().environment("LeadsFunction")
    assert environment["TABLE_NAME"] == "leads-local-leadstable"
    assert environment["BUCKET_NAME"] == "leads-data-123456789012-us-east-1-dev"  # BucketName, resolved
    assert environment["STAGE"] == "dev"
    assert environment["POWERTOOLS_SERVICE_NAME"] == "leads"
    assert "JWT_SECRET" not in environment  # !If HasJwtSecret ... !Ref AWS::NoValue, default ""


def test_parameter_overrides_win_over_defaults_and_drive_conditions() -> None:
    environment = Template.load(parameter_overrides={"JwtSecret": "s3cret", "Stage": "qa"}).environment(
        "MetaFunction"
    )
    assert environment["JWT_SECRET"] == "s3cret"
    assert environment["STAGE"] == "qa"


def test_sub_resolves_parameters_resources_attributes_and_pseudo_parameters() -> None:
    template = make_template(
        {"Jobs": {"Type": "AWS::SQS::Queue"}, "Table": {"Type": "AWS::DynamoDB::Table"}},
        Parameters={"Stage": {"Type": "String", "Default": "dev"}},
    )
    resolved = template.resolve(
        {
            "Fn::Sub": "${Stage}|${Table}|${Table.Arn}|${AWS::Region}|${AWS::AccountId}"
            "|${AWS::URLSuffix}|${!Literal}|${Jobs}"
        }
    )
    assert resolved.split("|") == [
        "dev",
        "leads-local-table",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/leads-local-table",
        REGION,
        ACCOUNT_ID,
        "amazonaws.com",
        "${Literal}",
        f"http://127.0.0.1:4566/{ACCOUNT_ID}/leads-local-jobs",
    ]
    assert template.resolve({"Fn::Sub": ["${Greeting}-${Stage}", {"Greeting": "hi"}]}) == "hi-dev"


def test_no_value_drops_keys_and_items_and_if_follows_conditions() -> None:
    template = make_template(
        {},
        Parameters={"Mode": {"Type": "String", "Default": "on"}},
        Conditions={
            "IsOn": {"Fn::Equals": [{"Ref": "Mode"}, "on"]},
            "IsOff": {"Fn::Not": [{"Condition": "IsOn"}]},
        },
    )
    value = {
        "kept": {"Fn::If": ["IsOn", "yes", "no"]},
        "dropped": {"Fn::If": ["IsOff", "yes", {"Ref": "AWS::NoValue"}]},
        "items": ["a", {"Ref": "AWS::NoValue"}, {"Fn::Join": ["-", ["b", {"Ref": "Mode"}]]}],
        "selected": {"Fn::Select": [1, ["x", "y"]]},
    }
    assert template.resolve(value) == {"kept": "yes", "items": ["a", "b-on"], "selected": "y"}


def test_get_att_of_local_resources() -> None:
    template = make_template(
        {
            "Jobs": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}},
            "Files": {"Type": "AWS::S3::Bucket"},
        }
    )
    assert template.resolve({"Fn::GetAtt": ["Jobs", "Arn"]}) == f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:jobs"
    assert template.resolve({"Fn::GetAtt": "Jobs.QueueUrl"}) == f"http://127.0.0.1:4566/{ACCOUNT_ID}/jobs"
    assert template.resolve({"Fn::GetAtt": ["Files", "Arn"]}) == "arn:aws:s3:::leads-local-files"


def test_unknown_intrinsics_and_references_raise_clear_errors() -> None:
    template = make_template({"Table": {"Type": "AWS::DynamoDB::Table"}})
    with pytest.raises(TemplateError, match="Fn::ImportValue"):
        template.resolve({"Fn::ImportValue": "shared-vpc"})
    with pytest.raises(TemplateError, match="Missing"):
        template.resolve({"Ref": "Missing"})
    with pytest.raises(TemplateError, match="StreamArn"):
        template.resolve({"Fn::GetAtt": ["Table", "StreamArn"]})
    with pytest.raises(TemplateError, match="emulator endpoint"):
        Template({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}, TEMPLATE_PATH.parent).resolve(
            {"Ref": "Q"}
        )


def test_api_routes_come_from_every_api_event_of_the_template() -> None:
    document = load_template()
    expected = {
        (event["Properties"]["Path"], event["Properties"]["Method"].upper(), function_id)
        for function_id, resource in document["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    }
    routes = Template.load().api_routes()
    assert {(route.path, route.method, route.function_id) for route in routes} == expected
    assert len(routes) == len(expected)


def test_handler_files_are_relative_to_code_uri() -> None:
    functions = Template.load().functions()
    root = TEMPLATE_PATH.parent
    assert functions["LeadsFunction"].handler_file == root / "functions" / "leads" / "app.py"
    assert (
        functions["MetaFunction"].handler_file == root / "functions" / "meta" / "app.py"
    )  # meta/app.lambda_handler
    assert functions["MetaFunction"].code_root == root / "functions"
    assert functions["MetaFunction"].handler_name == "lambda_handler"
    assert functions["MetaFunction"].memory_mb == 256  # its own MemorySize wins over Globals
    assert functions["LeadsFunction"].memory_mb == 512


def test_api_stage_comes_from_the_api_stage_name() -> None:
    apis = Template.load(parameter_overrides={"Stage": "qa"}).apis()
    assert apis["LeadsApi"].stage == "qa"
    assert apis["LeadsApi"].gateway_responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"


@pytest.mark.parametrize(
    ("template_path", "rule"),
    [
        ("/leads", "/leads"),
        ("/leads/{id}", "/leads/<id>"),
        ("/files/{proxy+}", "/files/<path:proxy>"),
        ("/a/{x}/b/{y}", "/a/<x>/b/<y>"),
    ],
)
def test_rule_path(template_path: str, rule: str) -> None:
    assert rule_path(template_path) == rule


STREAM_FUNCTION = {
    "Type": "AWS::Serverless::Function",
    "Properties": {
        "CodeUri": "sync/",
        "Handler": "app.handler",
        "Events": {
            "Changes": {
                "Type": "DynamoDB",
                "Properties": {
                    "Stream": {"Fn::GetAtt": ["Items", "StreamArn"]},
                    "StartingPosition": "TRIM_HORIZON",
                    "BatchSize": 7,
                    "MaximumRetryAttempts": 2,
                    "BisectBatchOnFunctionError": True,
                    "DestinationConfig": {
                        "OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["Failures", "Arn"]}}
                    },
                    "FilterCriteria": {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]},
                },
            }
        },
    },
}


def stream_template(**event_changes: Any) -> Template:
    function = copy.deepcopy(STREAM_FUNCTION)
    event = function["Properties"]["Events"]["Changes"]["Properties"]
    for key, value in event_changes.items():
        if value is None:
            event.pop(key)
        else:
            event[key] = value
    return make_template(
        {
            "Items": {"Type": "AWS::DynamoDB::Table"},
            "Failures": {"Type": "AWS::SQS::Queue"},
            "Jobs": {"Type": "AWS::SQS::Queue"},
            "Sync": function,
        }
    )


def test_stream_sources_come_from_dynamodb_events() -> None:
    (source,) = stream_template().stream_sources()
    assert source == StreamEventSource(
        function_id="Sync",
        table_id="Items",
        starting_position="TRIM_HORIZON",
        batch_size=7,
        maximum_retry_attempts=2,
        bisect_batch_on_function_error=True,
        on_failure_queue_id="Failures",
        filter_patterns=({"eventName": ["INSERT"]},),
    )
    defaults = stream_template(
        BatchSize=None,
        MaximumRetryAttempts=None,
        BisectBatchOnFunctionError=None,
        DestinationConfig=None,
        FilterCriteria=None,
    ).stream_sources()[0]
    assert (defaults.batch_size, defaults.maximum_retry_attempts) == (100, -1)  # Lambda's defaults
    assert (defaults.bisect_batch_on_function_error, defaults.on_failure_queue_id) == (False, None)
    assert defaults.filter_patterns == ()
    assert stream_template(Enabled=False).stream_sources() == []


def test_the_templates_directory_sync_reads_the_leads_tables_stream() -> None:
    (source,) = Template.load().stream_sources()
    assert (source.function_id, source.table_id, source.starting_position) == (
        "DirectorySyncFunction",
        "LeadsTable",
        "LATEST",
    )
    assert source.on_failure_queue_id == "DirectorySyncDeadLetterQueue"
    assert source.maximum_retry_attempts >= 0 and source.bisect_batch_on_function_error


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"Stream": {"Fn::GetAtt": ["Items", "Arn"]}}, "StreamArn"),
        ({"Stream": {"Fn::GetAtt": ["Jobs", "StreamArn"]}}, "StreamArn"),
        ({"StartingPosition": "AT_TIMESTAMP"}, "StartingPosition"),
        ({"FunctionResponseTypes": ["ReportBatchItemFailures"]}, "FunctionResponseTypes"),
        (
            {"DestinationConfig": {"OnFailure": {"Type": "SNS", "Destination": "arn:aws:sns:x"}}},
            "OnFailure",
        ),
        ({"FilterCriteria": {"Filters": [{"Pattern": "not json"}]}}, "not JSON"),
        ({"FilterCriteria": {"Filters": [{"Pattern": '{"a": [{"numeric": [">", 1]}]}'}]}}, "numeric"),
    ],
)
def test_stream_settings_the_local_stack_cannot_honour_fail_loudly(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        stream_template(**changes).stream_sources()
