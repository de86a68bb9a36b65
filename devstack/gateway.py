"""A WSGI stand-in for API Gateway (REST, v1 proxy integration) that serves the template's routes.

Responses API Gateway makes itself (unknown route, body too large, function error) use the API's
`GatewayResponses` from the template, falling back to API Gateway's defaults. One deliberate
difference: a known path with a method it does not declare gets 405 with an `Allow` header
(API Gateway answers MISSING_AUTHENTICATION_TOKEN there).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from devstack.runtime import LambdaFunction
from devstack.template import ACCOUNT_ID, ApiRoute, ApiSpec

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit

# API Gateway's own gateway responses: (status, body) when the API does not customise them.
_DEFAULT_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": (403, '{"message":"Missing Authentication Token"}'),
    "REQUEST_TOO_LARGE": (413, '{"message":"Request Too Long"}'),
    "INTEGRATION_FAILURE": (502, '{"message": "Internal server error"}'),
}
_FALLBACK_TYPES = {
    "MISSING_AUTHENTICATION_TOKEN": "DEFAULT_4XX",
    "REQUEST_TOO_LARGE": "DEFAULT_4XX",
    "INTEGRATION_FAILURE": "DEFAULT_5XX",
}


def rule_path(template_path: str) -> str:
    """API Gateway path template -> Werkzeug rule: `{id}` -> `<id>`, `{proxy+}` -> `<path:proxy>`."""
    return re.sub(r"\{(\w+)\+\}", r"<path:\1>", re.sub(r"\{(\w+)\}", r"<\1>", template_path))


def _media_type(header_value: str | None) -> str:
    return (header_value or "").split(";", 1)[0].strip().lower()


def _matches(media_types: Iterable[str], patterns: Iterable[str]) -> bool:
    return any(
        fnmatch.fnmatch(media, pattern.lower()) for media in media_types if media for pattern in patterns
    )


class LocalGateway:
    """The WSGI application. Handlers run in-process; each function serves one request at a time."""

    def __init__(
        self, routes: list[ApiRoute], apis: Mapping[str, ApiSpec], functions: Mapping[str, LambdaFunction]
    ):
        self._routes = {(route.path, route.method): route for route in routes}
        self._apis = apis
        self._functions = functions
        self._url_map = Map(
            [Rule(rule_path(path), endpoint=path) for path in sorted({route.path for route in routes})],
            merge_slashes=False,
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        default_api = next(iter(self._apis.values()), None)
        try:
            resource, path_parameters = self._url_map.bind_to_environ(request.environ).match()
        except NotFound:
            return self._gateway_response(default_api, "MISSING_AUTHENTICATION_TOKEN")
        declared = (resource, "OPTIONS") in self._routes  # SAM then adds no preflight answer of its own
        if request.method == "OPTIONS" and default_api and default_api.cors and not declared:
            return self._cors_preflight(default_api.cors)
        route = self._routes.get((resource, request.method)) or self._routes.get((resource, "ANY"))
        if route is None:
            allowed = sorted(method for path, method in self._routes if path == resource)
            return Response(
                json.dumps({"message": "Method Not Allowed."}),
                405,
                {"Allow": ", ".join(allowed)},
                content_type="application/json",
            )
        api = self._apis[route.api_id]
        body = self._read_body(request)
        if body is None:
            return self._gateway_response(api, "REQUEST_TOO_LARGE")
        event = proxy_event(request, route, api, path_parameters, body)
        try:
            result = self._functions[route.function_id].invoke(event)
            return self._http_response(result, request, api)
        except Exception:
            logger.exception("%s %s: function %s failed", request.method, request.path, route.function_id)
            return self._gateway_response(api, "INTEGRATION_FAILURE")

    @staticmethod
    def _read_body(request: Request) -> bytes | None:
        """The request body, or None when it is over API Gateway's limit (the rest is drained)."""
        body = request.stream.read(MAX_BODY_BYTES + 1)
        if len(body) <= MAX_BODY_BYTES:
            return body
        while request.stream.read(1 << 16):
            pass
        return None

    @staticmethod
    def _http_response(result: Any, request: Request, api: ApiSpec) -> Response:
        """Validate and convert a proxy response the way API Gateway does (malformed -> error)."""
        if not isinstance(result, dict) or not str(result.get("statusCode", "")).isdigit():
            raise ValueError(f"Malformed Lambda proxy response (statusCode missing or invalid): {result!r}")
        body = result.get("body")
        if body is not None and not isinstance(body, str):
            raise ValueError(
                f"Malformed Lambda proxy response (body must be a string): {type(body).__name__}"
            )
        multi_value_headers = result.get("multiValueHeaders") or {}
        headers = Headers()
        for name, values in multi_value_headers.items():
            for value in values:
                headers.add(name, str(value))
        lower_multi_value = {name.lower() for name in multi_value_headers}
        for name, value in (result.get("headers") or {}).items():
            if name.lower() not in lower_multi_value:
                headers.add(name, str(value))
        headers.setdefault("Content-Type", "application/json")
        payload = (body or "").encode()
        accepted = [_media_type(part) for part in request.headers.get("Accept", "").split(",")]
        if result.get("isBase64Encoded") and _matches(accepted, api.binary_media_types):
            payload = base64.b64decode(body or "")
        return Response(payload, int(result["statusCode"]), headers)

    @staticmethod
    def _cors_preflight(cors: Mapping[str, str]) -> Response:
        """SAM's `Cors` adds an OPTIONS method with a mock integration to every path that does not
        declare one: the browser's preflight of those never reaches a function."""
        names = {
            "AllowOrigin": "Access-Control-Allow-Origin",
            "AllowMethods": "Access-Control-Allow-Methods",
            "AllowHeaders": "Access-Control-Allow-Headers",
            "MaxAge": "Access-Control-Max-Age",
        }
        headers = {names[key]: str(value).strip("'") for key, value in cors.items() if key in names}
        return Response("{}", 200, headers, content_type="application/json")

    @staticmethod
    def _gateway_response(api: ApiSpec | None, response_type: str) -> Response:
        status, body = _DEFAULT_RESPONSES[response_type]
        configured = api.gateway_responses if api else {}
        custom = configured.get(response_type) or configured.get(_FALLBACK_TYPES[response_type]) or {}
        templates = custom.get("ResponseTemplates") or {}
        body = templates.get("application/json") or next(iter(templates.values()), body)
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": response_type}
        parameters = dict(custom.get("ResponseParameters") or {})
        # SAM's form `Headers: {Name: "'value'"}`, or CloudFormation's `gatewayresponse.header.Name`.
        for name, value in (parameters.pop("Headers", None) or {}).items():
            parameters[f"gatewayresponse.header.{name}"] = value
        for key, value in parameters.items():
            if key.startswith("gatewayresponse.header.") and str(value).startswith("'"):
                headers[key.removeprefix("gatewayresponse.header.")] = str(value).strip("'")
        return Response(body, int(custom.get("StatusCode", status)), headers)


def proxy_event(
    request: Request, route: ApiRoute, api: ApiSpec, path_parameters: Mapping[str, str], body: bytes
) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy integration event for request."""
    now = datetime.now(UTC)
    headers = {name: value for name, value in request.headers.items()}
    headers.setdefault("X-Forwarded-For", request.remote_addr or "127.0.0.1")
    headers.setdefault("X-Forwarded-Proto", request.scheme)
    headers.setdefault("X-Forwarded-Port", str(request.environ.get("SERVER_PORT", "80")))
    multi_value_headers = {name: request.headers.getlist(name) or [value] for name, value in headers.items()}
    query = request.args
    is_binary = _matches([_media_type(request.headers.get("Content-Type"))], api.binary_media_types)
    text_body = base64.b64encode(body).decode() if is_binary else body.decode("utf-8", errors="replace")
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_value_headers,
        "queryStringParameters": {key: query.getlist(key)[-1] for key in query} or None,
        "multiValueQueryStringParameters": {key: query.getlist(key) for key in query} or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": api.stage_variables,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": request.method,
            "extendedRequestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(time.time() * 1000),
            # The local API is served at the root (like a custom domain with no base path), so the
            # stage is not part of the URL: the path clients called is the path here.
            "path": request.path,
            "accountId": ACCOUNT_ID,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": api.stage,
            "domainPrefix": request.host.split(".", 1)[0],
            "domainName": request.host,
            "requestId": str(uuid.uuid4()),
            "apiId": api.api_id,
            "identity": {
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent"),
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "principalOrgId": None,
                "user": None,
                "userArn": None,
            },
        },
        "body": text_body if body else None,
        "isBase64Encoded": is_binary and bool(body),
    }
