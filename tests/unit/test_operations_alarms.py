"""The template tells the team running it when it is broken: every function, queue and table, the
API and failed imports have an alarm sent to the alarm topic, and the dashboard shows each of them
(docs/operations.md). What needs an alarm is read from template.yaml, not listed here: a function
or queue added without its alarm fails this test."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.template import REPO_ROOT, Template

ALARM = "AWS::CloudWatch::Alarm"
RUNBOOK = REPO_ROOT / "docs" / "operations.md"
IMPORT_FAILED_METRIC = "ImportFailed"  # what leads_shared.csv_import publishes for a failed job
EXPORT_FAILED_METRIC = "ExportFailed"  # what leads_shared.export_worker publishes for a failed job
# A Metrics Insights query over one resource: SELECT SUM(Metric) FROM SCHEMA("Ns", ...) WHERE Dim = 'v'
INSIGHTS_QUERY = re.compile(
    r"""SELECT\s+\w+\((?P<metric>\w+)\)\s+FROM\s+SCHEMA\("(?P<namespace>[^"]+)"[^)]*\)\s+"""
    r"""WHERE\s+(?P<dimension>\w+)\s*=\s*'(?P<value>[^']*)'"""
)

type Watched = tuple[str, str, str, str]  # namespace, metric, dimension, its value


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load()


# ------------------------------------------------------------------------------------ reading
def alarms(template: Template) -> dict[str, dict[str, Any]]:
    """Every alarm's properties, resolved (names, not intrinsics)."""
    return {lid: template.resolve(template.properties(lid)) for lid in template.resources_of_type(ALARM)}


def watched_by(alarm: dict[str, Any]) -> Iterator[Watched]:
    """The metrics an alarm reads: its own, those of its metric math, those of its SQL query."""
    metrics = [alarm] if "MetricName" in alarm else []
    for query in alarm.get("Metrics") or []:
        if "MetricStat" in query:
            metrics.append(query["MetricStat"]["Metric"])
        elif match := INSIGHTS_QUERY.search(" ".join(str(query.get("Expression", "")).split())):
            yield match["namespace"], match["metric"], match["dimension"], match["value"]
    for metric in metrics:
        for dimension in metric.get("Dimensions") or []:
            yield metric["Namespace"], metric["MetricName"], dimension["Name"], str(dimension["Value"])


def dead_letter_queues(template: Template) -> set[str]:
    """Queues that receive what failed elsewhere: redrive targets and stream OnFailure queues."""
    targets = {source.on_failure_queue_id for source in template.stream_sources()}
    for queue in template.resources_of_type("AWS::SQS::Queue"):
        redrive = template.properties(queue).get("RedrivePolicy") or {}
        if "deadLetterTargetArn" in redrive:  # !GetAtt <Queue>.Arn
            targets.add(redrive["deadLetterTargetArn"]["Fn::GetAtt"][0])
    return {queue for queue in targets if queue}


def required_alarms(template: Template) -> Iterator[tuple[str, Watched]]:
    """(logical id, the metric that must be alarmed on) for everything the template runs."""
    for function in template.resources_of_type("AWS::Serverless::Function"):
        name = template.resource(function).name
        for metric in ("Errors", "Throttles"):
            yield function, ("AWS/Lambda", metric, "FunctionName", name)
    dead_letters = dead_letter_queues(template)
    for queue in template.resources_of_type("AWS::SQS::Queue"):
        metric = (
            "ApproximateNumberOfMessagesVisible" if queue in dead_letters else "ApproximateAgeOfOldestMessage"
        )
        yield queue, ("AWS/SQS", metric, "QueueName", template.resource(queue).name)
    for table in template.resources_of_type("AWS::DynamoDB::Table"):
        for metric in ("ThrottledRequests", "SystemErrors"):
            yield table, ("AWS/DynamoDB", metric, "TableName", template.resource(table).name)
    for api in template.resources_of_type("AWS::Serverless::Api"):
        name = str(template.resolve(template.properties(api)["Name"]))
        for metric in ("5XXError", "Latency"):
            yield api, ("AWS/ApiGateway", metric, "ApiName", name)
    environment = template.environment(next(iter(template.resources_of_type("AWS::Serverless::Function"))))
    for what, metric in (("failed imports", IMPORT_FAILED_METRIC), ("failed exports", EXPORT_FAILED_METRIC)):
        namespace, service = (
            environment["POWERTOOLS_METRICS_NAMESPACE"],
            environment["POWERTOOLS_SERVICE_NAME"],
        )
        yield what, (namespace, metric, "service", service)


def missing_alarms(template: Template) -> list[str]:
    watched = {item for alarm in alarms(template).values() for item in watched_by(alarm)}
    return [f"{lid}: {need[1]}" for lid, need in required_alarms(template) if need not in watched]


def dashboard_values(template: Template) -> set[str]:
    """Every string in the metrics of every dashboard widget (dimension values, query texts)."""
    values: set[str] = set()
    for dashboard in template.resources_of_type("AWS::CloudWatch::Dashboard"):
        body = json.loads(template.resolve(template.properties(dashboard)["DashboardBody"]))
        for widget in body["widgets"]:
            for metric in widget["properties"].get("metrics", []):
                for part in metric:
                    values |= set(part.values()) if isinstance(part, dict) else {part}
    return {str(value) for value in values}


def missing_from_dashboard(template: Template) -> list[str]:
    shown = dashboard_values(template)
    queried = " ".join(shown)  # a Metrics Insights query names its resource in quotes
    return sorted(
        {
            lid
            for lid, (*_, name) in required_alarms(template)
            if name not in shown and f"'{name}'" not in queried
        }
    )


def topic(template: Template) -> str:
    (logical_id,) = template.resources_of_type("AWS::SNS::Topic")
    return logical_id


# ------------------------------------------------------------------------------------ tests
def test_every_function_queue_table_the_api_and_failed_imports_have_an_alarm(template):
    assert missing_alarms(template) == []


def test_every_alarm_and_its_recovery_go_to_the_alarm_topic(template):
    topic_ref = template.resource(topic(template)).ref
    for lid, alarm in alarms(template).items():
        assert alarm.get("AlarmActions") == [topic_ref], lid
        assert alarm.get("OKActions") == [topic_ref], lid


def test_the_topic_mails_the_alarm_email_when_one_is_given(template):
    (subscription,) = template.resources_of_type("AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic(template)}
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert subscription["Properties"]["Protocol"] == "email"
    assert template.condition("HasAlarmEmail") is False  # AlarmEmail defaults to ""
    assert Template(template.document, template.base_dir, {"AlarmEmail": "ops@example.com"}).condition(
        "HasAlarmEmail"
    )


def test_one_message_in_a_dead_letter_queue_raises_its_alarm(template):
    names = {template.resource(queue).name for queue in dead_letter_queues(template)}
    alarmed = [
        alarm
        for alarm in alarms(template).values()
        if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and alarm["Dimensions"][0]["Value"] in names
    ]
    assert len(alarmed) == len(names) > 0
    for alarm in alarmed:
        assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            "Maximum",
            0,
            "GreaterThanThreshold",
        )


def test_each_alarm_names_a_section_of_the_runbook(template):
    headings = {line.lstrip("#").strip() for line in RUNBOOK.read_text(encoding="utf-8").splitlines()}
    for lid, alarm in alarms(template).items():
        match = re.search(
            r'Runbook: docs/operations\.md, "([^"]+)"', " ".join(alarm["AlarmDescription"].split())
        )
        assert match, f"{lid}: its description names no runbook section"
        assert match[1] in headings, f"{lid}: docs/operations.md has no section {match[1]!r}"


def test_the_dashboard_shows_every_function_queue_table_and_the_api(template):
    assert missing_from_dashboard(template) == []


def test_a_queue_or_function_added_without_an_alarm_fails_the_check(template):
    document = copy.deepcopy(template.document)
    document["Resources"]["ExtraQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "extra"}}
    extra_function = copy.deepcopy(document["Resources"]["MetaFunction"])
    extra_function["Properties"]["FunctionName"] = "leads-extra"
    document["Resources"]["ExtraFunction"] = extra_function
    grown = Template(document, template.base_dir)

    assert missing_alarms(grown) == [
        "ExtraFunction: Errors",
        "ExtraFunction: Throttles",
        "ExtraQueue: ApproximateAgeOfOldestMessage",
    ]
    assert missing_from_dashboard(grown) == ["ExtraFunction", "ExtraQueue"]
