"""Read template.yaml (the single source of truth) and resolve it for the local stack.

Short CloudFormation tags become their long forms, intrinsics are resolved against parameter
defaults (or overrides), conditions and the local names/ARNs/URLs of the template's resources.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devstack.event_filter import FilterPatternError, check_pattern

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
URL_SUFFIX = "amazonaws.com"
LOCAL_NAME_PREFIX = "leads-local"
IMPLICIT_API_ID = "ServerlessRestApi"  # the API SAM creates for Api events without RestApiId

PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::URLSuffix": URL_SUFFIX,
    "AWS::Partition": "aws",
    "AWS::StackName": LOCAL_NAME_PREFIX,
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{LOCAL_NAME_PREFIX}/local",
}


class TemplateError(ValueError):
    """The template uses something the local stack cannot resolve."""


class _NoValue:
    """Result of `!Ref AWS::NoValue`: the enclosing key or list item is dropped."""


NO_VALUE = _NoValue()


# ------------------------------------------------------------------------------------ loading
class CloudFormationLoader(yaml.SafeLoader):
    """A safe YAML loader that turns `!Ref x` into `{"Ref": x}`, `!Sub s` into `{"Fn::Sub": s}`..."""


def _construct_short_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_short_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=CloudFormationLoader)
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{path} is not a CloudFormation template")
    return document


# ------------------------------------------------------------------------------------ model
@dataclass(frozen=True)
class LocalResource:
    """A template resource as it exists locally (its Ref and GetAtt values)."""

    logical_id: str
    type: str
    name: str
    arn: str
    url: str | None = None  # SQS queue URL

    @property
    def ref(self) -> str:
        if self.type == "AWS::SQS::Queue":
            if self.url is None:
                raise TemplateError(f"the URL of queue {self.logical_id} needs the emulator endpoint")
            return self.url
        if self.type in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            return self.arn
        return self.name

    def attribute(self, name: str) -> str:
        attributes = {
            "Arn": self.arn,
            "QueueName": self.name,
            "QueueUrl": self.url,
            "DomainName": f"{self.name}.s3.{URL_SUFFIX}",
            "RegionalDomainName": f"{self.name}.s3.{REGION}.{URL_SUFFIX}",
            "RootResourceId": "root",
        }
        value = attributes.get(name)
        if value is None:
            raise TemplateError(f"unsupported attribute !GetAtt {self.logical_id}.{name}")
        return value


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    code_root: Path
    handler_file: Path
    handler_name: str
    memory_mb: int
    timeout_s: int

    @property
    def handler_module(self) -> str:
        """The module Lambda's runtime imports from the function's code (``Handler: app.x``: ``app``)."""
        return ".".join(self.handler_file.relative_to(self.code_root).with_suffix("").parts)


@dataclass(frozen=True)
class ApiSpec:
    logical_id: str
    api_id: str
    stage: str
    binary_media_types: tuple[str, ...]
    stage_variables: dict[str, str] | None
    gateway_responses: dict[str, Any]
    cors: dict[str, str] | None = None  # SAM's `Cors` (AllowOrigin, ...), values as quoted there


@dataclass(frozen=True)
class ApiRoute:
    path: str  # the template's resource path, e.g. /leads/{id}
    method: str  # upper case; ANY for `Method: any`
    function_id: str
    handler_file: Path
    handler_name: str
    api_id: str  # logical id of the AWS::Serverless::Api


@dataclass(frozen=True)
class SqsEventSource:
    function_id: str
    queue_id: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class StreamEventSource:
    """A `Type: DynamoDB` event: the function reads its table's stream."""

    function_id: str
    table_id: str
    starting_position: str  # LATEST or TRIM_HORIZON
    batch_size: int
    maximum_retry_attempts: int  # -1: until the record leaves the stream
    bisect_batch_on_function_error: bool
    on_failure_queue_id: str | None  # DestinationConfig.OnFailure (an SQS queue of the template)
    filter_patterns: tuple[dict[str, Any], ...]  # FilterCriteria (parsed); none: every record


_ARN_FORMATS = {
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "AWS::S3::Bucket": "arn:aws:s3:::{name}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "AWS::Serverless::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::Serverless::LayerVersion": "arn:aws:lambda:{region}:{account}:layer:{name}:1",
    "AWS::Logs::LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}:*",
}
_NAME_PROPERTIES = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Logs::LogGroup": "LogGroupName",
}
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")
# Event source mapping settings whose behaviour the local stream poller does not reproduce: a
# template using them fails at start rather than behaving differently from AWS.
_UNSUPPORTED_STREAM_PROPERTIES = frozenset({"FunctionResponseTypes", "TumblingWindowInSeconds"})


def _merge_globals(defaults: Any, own: Any) -> Any:
    """SAM's Globals merge: maps merge, lists concatenate, scalars of the resource win."""
    if isinstance(defaults, dict) and isinstance(own, dict):
        merged = dict(defaults)
        for key, value in own.items():
            merged[key] = _merge_globals(defaults[key], value) if key in defaults else value
        return merged
    if isinstance(defaults, list) and isinstance(own, list):
        return defaults + own
    return own


@dataclass(frozen=True)
class Template:
    """A loaded template plus what intrinsics resolve against locally."""

    document: dict[str, Any]
    base_dir: Path
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    endpoint_url: str | None = None  # the emulator; needed only for SQS queue URLs

    @classmethod
    def load(
        cls, path: Path = TEMPLATE_PATH, parameter_overrides: Mapping[str, str] | None = None
    ) -> Template:
        return cls(load_template(path), path.resolve().parent, dict(parameter_overrides or {}))

    def with_endpoint(self, endpoint_url: str) -> Template:
        return dataclasses.replace(self, endpoint_url=endpoint_url.rstrip("/"))

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.document["Resources"]
        return resources

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res.get("Type") == resource_type}

    def properties(self, logical_id: str) -> dict[str, Any]:
        """The resource's Properties, with SAM Globals merged in for functions and APIs."""
        resource = self.resources[logical_id]
        own: dict[str, Any] = resource.get("Properties") or {}
        globals_section = {"AWS::Serverless::Function": "Function", "AWS::Serverless::Api": "Api"}.get(
            resource["Type"]
        )
        if globals_section is None:
            return own
        merged: dict[str, Any] = _merge_globals(
            (self.document.get("Globals") or {}).get(globals_section) or {}, own
        )
        return merged

    # -------------------------------------------------------------------------- resolution
    def parameter(self, name: str) -> Any:
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        parameters = self.document.get("Parameters") or {}
        if name not in parameters:
            raise TemplateError(f"unknown parameter {name}")
        if name in self.parameter_overrides:
            return self.parameter_overrides[name]
        if "Default" not in parameters[name]:
            raise TemplateError(f"parameter {name} has no Default: pass it in parameter_overrides")
        return parameters[name]["Default"]

    def resource(self, logical_id: str) -> LocalResource:
        if logical_id not in self.resources:
            raise TemplateError(f"unknown resource {logical_id}")
        resource_type = self.resources[logical_id]["Type"]
        name_property = _NAME_PROPERTIES.get(resource_type)
        explicit_name = self.properties(logical_id).get(name_property) if name_property else None
        name = (
            str(self.resolve(explicit_name)) if explicit_name else f"{LOCAL_NAME_PREFIX}-{logical_id.lower()}"
        )
        if (
            resource_type == "AWS::SQS::Queue"
            and self.properties(logical_id).get("FifoQueue")
            and not explicit_name
        ):
            name += ".fifo"
        service = resource_type.split("::")[1].lower()
        arn_format = _ARN_FORMATS.get(resource_type, f"arn:aws:{service}:{{region}}:{{account}}:{{name}}")
        arn = arn_format.format(region=REGION, account=ACCOUNT_ID, name=name)
        url = f"{self.endpoint_url}/{ACCOUNT_ID}/{name}" if self.endpoint_url else None
        return LocalResource(logical_id, resource_type, name, arn, url)

    def condition(self, name: str) -> bool:
        conditions = self.document.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"unknown condition {name}")
        return self._evaluate_condition(conditions[name])

    def _evaluate_condition(self, expression: Any) -> bool:
        if isinstance(expression, dict) and len(expression) == 1:
            ((function, argument),) = expression.items()
            if function == "Condition":
                return self.condition(argument)
            if function == "Fn::Not":
                return not self._evaluate_condition(argument[0])
            if function == "Fn::And":
                return all(self._evaluate_condition(item) for item in argument)
            if function == "Fn::Or":
                return any(self._evaluate_condition(item) for item in argument)
            if function == "Fn::Equals":
                left, right = (self.resolve(item) for item in argument)
                return str(left) == str(right)
        if isinstance(expression, bool):
            return expression
        raise TemplateError(f"unsupported condition expression: {expression!r}")

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic in value; `!Ref AWS::NoValue` keys and items are dropped."""
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key,) = value
            if key == "Ref" or key.startswith("Fn::"):
                return self._resolve_intrinsic(key, value[key])
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _resolve_intrinsic(self, function: str, argument: Any) -> Any:
        if function == "Ref":
            if argument == "AWS::NoValue":
                return NO_VALUE
            if argument in self.resources:
                return self.resource(argument).ref
            return self.parameter(argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return self.resource(logical_id).attribute(attribute)
        if function == "Fn::If":
            condition, if_true, if_false = argument
            return self.resolve(if_true if self.condition(condition) else if_false)
        if function == "Fn::Sub":
            template, variables = (argument, {}) if isinstance(argument, str) else argument
            return self._substitute(template, self.resolve(variables))
        if function == "Fn::Join":
            delimiter, items = argument
            return delimiter.join(str(item) for item in self.resolve(items))
        if function == "Fn::Select":
            index, items = self.resolve(argument)
            return items[int(index)]
        if function == "Fn::Split":
            delimiter, text = argument
            return str(self.resolve(text)).split(delimiter)
        if function in ("Fn::Not", "Fn::Equals", "Fn::And", "Fn::Or"):
            return self._evaluate_condition({function: argument})
        raise TemplateError(f"unsupported intrinsic function {function}: {argument!r}")

    def _substitute(self, template: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):  # ${!Literal} escapes the substitution
                return "${" + expression[1:] + "}"
            if expression in variables:
                return str(variables[expression])
            if "." in expression and expression.split(".", 1)[0] in self.resources:
                logical_id, attribute = expression.split(".", 1)
                return self.resource(logical_id).attribute(attribute)
            return str(self._resolve_intrinsic("Ref", expression))

        return _SUB_VARIABLE.sub(replace, template)

    # -------------------------------------------------------------------------- functions
    def functions(self) -> dict[str, FunctionSpec]:
        return {lid: self.function(lid) for lid in self.resources_of_type("AWS::Serverless::Function")}

    def function(self, logical_id: str) -> FunctionSpec:
        properties = self.properties(logical_id)
        code_uri, handler = properties.get("CodeUri"), properties.get("Handler")
        if not isinstance(code_uri, str) or not isinstance(handler, str):
            raise TemplateError(f"{logical_id}: CodeUri and Handler must be plain strings")
        module_path, handler_name = handler.rsplit(".", 1)
        code_root = (self.base_dir / code_uri).resolve()
        return FunctionSpec(
            logical_id=logical_id,
            name=self.resource(logical_id).name,
            code_root=code_root,
            handler_file=code_root / (module_path.replace(".", "/") + ".py"),
            handler_name=handler_name,
            memory_mb=int(self.resolve(properties.get("MemorySize", 128))),
            timeout_s=int(self.resolve(properties.get("Timeout", 3))),
        )

    def environment(self, function_id: str) -> dict[str, str]:
        """Globals.Function.Environment merged with the function's own, resolved."""
        variables = ((self.properties(function_id).get("Environment") or {}).get("Variables")) or {}
        return {key: str(value) for key, value in self.resolve(variables).items()}

    def _events(self, event_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (function_id, event.get("Properties") or {})
            for function_id in self.resources_of_type("AWS::Serverless::Function")
            for event in (self.properties(function_id).get("Events") or {}).values()
            if event.get("Type") == event_type
        ]

    # -------------------------------------------------------------------------- API
    def api_routes(self) -> list[ApiRoute]:
        functions = self.functions()
        routes = []
        for function_id, event in self._events("Api"):
            api_reference = event.get("RestApiId", {"Ref": IMPLICIT_API_ID})
            if not (isinstance(api_reference, dict) and set(api_reference) == {"Ref"}):
                raise TemplateError(f"{function_id}: RestApiId must be !Ref to an API of this template")
            function = functions[function_id]
            routes.append(
                ApiRoute(
                    path=event["Path"],
                    method=str(event["Method"]).upper(),
                    function_id=function_id,
                    handler_file=function.handler_file,
                    handler_name=function.handler_name,
                    api_id=api_reference["Ref"],
                )
            )
        return routes

    def apis(self) -> dict[str, ApiSpec]:
        """Every API the routes use, including SAM's implicit one (stage Prod)."""
        apis = {}
        for api_id in {route.api_id for route in self.api_routes()}:
            explicit = api_id in self.resources
            properties = (
                self.properties(api_id) if explicit else (self.document.get("Globals") or {}).get("Api") or {}
            )
            binary_media_types = self.resolve(properties.get("BinaryMediaTypes") or [])
            apis[api_id] = ApiSpec(
                logical_id=api_id,
                api_id=self.resource(api_id).name if explicit else f"{LOCAL_NAME_PREFIX}-api",
                stage=str(self.resolve(properties.get("StageName", "Prod"))),
                binary_media_types=tuple(str(item).replace("~1", "/") for item in binary_media_types),
                stage_variables=self.resolve(properties.get("Variables")) or None,
                gateway_responses=self.resolve(properties.get("GatewayResponses") or {}),
                cors=self._cors(properties.get("Cors")),
            )
        return apis

    def _cors(self, cors: Any) -> dict[str, str] | None:
        """SAM's `Cors`: a string is the AllowOrigin; SAM adds OPTIONS mocks answering with it."""
        if not cors:
            return None
        resolved = self.resolve(cors)
        return {"AllowOrigin": resolved} if isinstance(resolved, str) else dict(resolved)

    # -------------------------------------------------------------------------- SQS
    def sqs_sources(self) -> list[SqsEventSource]:
        sources = []
        for function_id, event in self._events("SQS"):
            queue = event.get("Queue")
            if not (isinstance(queue, dict) and "Fn::GetAtt" in queue):
                raise TemplateError(f"{function_id}: SQS event Queue must be !GetAtt <Queue>.Arn")
            target = queue["Fn::GetAtt"]
            queue_id = target.split(".", 1)[0] if isinstance(target, str) else target[0]
            if event.get("Enabled", True) is False:
                continue
            sources.append(
                SqsEventSource(
                    function_id=function_id,
                    queue_id=queue_id,
                    batch_size=int(self.resolve(event.get("BatchSize", 10))),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (event.get("FunctionResponseTypes") or []),
                )
            )
        return sources

    # -------------------------------------------------------------------------- DynamoDB streams
    def stream_sources(self) -> list[StreamEventSource]:
        sources = []
        for function_id, event in self._events("DynamoDB"):
            if event.get("Enabled", True) is False:
                continue
            unsupported = _UNSUPPORTED_STREAM_PROPERTIES.intersection(event)
            if unsupported:
                raise TemplateError(f"{function_id}: the local stack does not support {sorted(unsupported)}")
            table_id = self._get_att_target(event.get("Stream"), "StreamArn")
            if table_id is None or self.resources.get(table_id, {}).get("Type") != "AWS::DynamoDB::Table":
                raise TemplateError(f"{function_id}: DynamoDB event Stream must be !GetAtt <Table>.StreamArn")
            position = str(self.resolve(event.get("StartingPosition", "")))
            if position not in ("LATEST", "TRIM_HORIZON"):
                raise TemplateError(f"{function_id}: StartingPosition must be LATEST or TRIM_HORIZON")
            sources.append(
                StreamEventSource(
                    function_id=function_id,
                    table_id=table_id,
                    starting_position=position,
                    batch_size=int(self.resolve(event.get("BatchSize", 100))),
                    maximum_retry_attempts=int(self.resolve(event.get("MaximumRetryAttempts", -1))),
                    bisect_batch_on_function_error=bool(
                        self.resolve(event.get("BisectBatchOnFunctionError", False))
                    ),
                    on_failure_queue_id=self._on_failure_queue(function_id, event),
                    filter_patterns=self._filter_patterns(function_id, event),
                )
            )
        return sources

    @staticmethod
    def _get_att_target(value: Any, attribute: str) -> str | None:
        """The logical id in `!GetAtt <id>.<attribute>`, else None."""
        if not (isinstance(value, dict) and set(value) == {"Fn::GetAtt"}):
            return None
        target = value["Fn::GetAtt"]
        logical_id, name = target.split(".", 1) if isinstance(target, str) else target
        return str(logical_id) if name == attribute else None

    def _on_failure_queue(self, function_id: str, event: dict[str, Any]) -> str | None:
        on_failure = (event.get("DestinationConfig") or {}).get("OnFailure")
        if not on_failure:
            return None
        queue_id = self._get_att_target(on_failure.get("Destination"), "Arn")
        if (
            on_failure.get("Type", "SQS") != "SQS"
            or queue_id is None
            or self.resources.get(queue_id, {}).get("Type") != "AWS::SQS::Queue"
        ):
            raise TemplateError(
                f"{function_id}: locally, an OnFailure destination must be Type: SQS with "
                "Destination: !GetAtt <Queue>.Arn"
            )
        return queue_id

    def _filter_patterns(self, function_id: str, event: dict[str, Any]) -> tuple[dict[str, Any], ...]:
        patterns = []
        for entry in (event.get("FilterCriteria") or {}).get("Filters") or []:
            text = self.resolve(entry.get("Pattern"))
            try:
                pattern = json.loads(text) if isinstance(text, str) else None
            except json.JSONDecodeError as exc:
                raise TemplateError(f"{function_id}: a FilterCriteria Pattern is not JSON: {exc}") from exc
            if not isinstance(pattern, dict):
                raise TemplateError(f"{function_id}: a FilterCriteria Pattern must be a JSON object string")
            try:
                check_pattern(pattern)
            except FilterPatternError as exc:
                raise TemplateError(f"{function_id}: {exc}") from exc
            patterns.append(pattern)
        return tuple(patterns)
