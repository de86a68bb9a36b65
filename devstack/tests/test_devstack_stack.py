from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from devstack.stack import EnvironmentConflictError, start_local_stack
from devstack.template import REPO_ROOT

WriteProject = Callable[[str, dict[str, str]], Path]  # the conftest fixture

TEMPLATE = """\
    Parameters:
      Mode: {Type: String, Default: local}
    Globals:
      Function:
        Environment:
          Variables:
            TABLE_NAME: !Ref Items
            MODE: !Ref Mode
    Resources:
      Items:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
          KeySchema: [{AttributeName: PK, KeyType: HASH}]
      Health:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: health/
          Handler: app.handler
          Environment: {Variables: {OWN: !Ref OwnValue}}
          Events:
            Get: {Type: Api, Properties: {Path: /health, Method: GET}}
      Other:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: health/
          Handler: app.handler
          Environment: {Variables: {OWN: other}}
    """
HANDLER = """\
    import json, os
    import boto3

    def handler(event, context):
        table = boto3.client("dynamodb").describe_table(TableName=os.environ["TABLE_NAME"])["Table"]
        body = {"table": table["TableName"], "mode": os.environ["MODE"]}
        return {"statusCode": 200, "body": json.dumps(body)}
    """


def test_stack_serves_the_template_with_its_environment_and_restores_it(write_project: WriteProject) -> None:
    template_path = write_project(TEMPLATE.replace("!Ref OwnValue", "other"), {"health/app.py": HANDLER})
    before = os.environ.get("AWS_ENDPOINT_URL")
    stack = start_local_stack(seed=False, template_path=template_path, parameter_overrides={"Mode": "e2e"})
    try:
        response = requests.get(f"{stack.base_url}/health", timeout=10)
        assert response.json() == {"table": "leads-local-items", "mode": "e2e"}  # via AWS_ENDPOINT_URL
        assert os.environ["AWS_ENDPOINT_URL"] == stack.emulator_url
        assert os.environ["POWERTOOLS_TRACE_DISABLED"] == "1"
        assert stack.base_url.startswith("http://127.0.0.1:") and not stack.base_url.endswith(":0")
    finally:
        stack.stop()
    assert os.environ.get("AWS_ENDPOINT_URL") == before
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{stack.base_url}/health", timeout=2)


def test_functions_disagreeing_on_a_variable_fail_loudly(write_project: WriteProject) -> None:
    template_path = write_project(TEMPLATE.replace("!Ref OwnValue", "mine"), {"health/app.py": HANDLER})
    with pytest.raises(EnvironmentConflictError, match="OWN"):
        start_local_stack(seed=False, template_path=template_path)


def test_cli_prints_the_ready_line_serves_health_and_stops_on_sigterm() -> None:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "layers" / "shared")]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "--port", "0", "--no-seed"],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = next(
            line for line in iter(process.stdout.readline, "") if line.startswith("Leads API ready on ")
        )
        base_url = ready.removeprefix("Leads API ready on ").strip()
        assert requests.get(f"{base_url}/health", timeout=10).json() == {"status": "ok"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert "Stopping the local stack" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
