"""The one Logger, Metrics and tracer of every function (service name from the environment).

What a trace shows: Lambda's and API Gateway's active tracing (template: `Tracing: Active`,
`TracingEnabled`) record every request end to end (API Gateway, then the function's
initialisation and invocation) without any SDK in the function, and Powertools' Logger writes
the request's X-Ray trace id and correlation id on each log line. Per-call subsegments (each
handler method, each AWS call, with cold-start and service annotations) need the X-Ray SDK,
the largest import of a cold start (about a fifth of it): they are opt-in, `TRACE_CALLS=true`
(template parameter `TraceCalls`). Without it, ``tracer``'s decorators return the function
unchanged and the SDK is never imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics

from leads_shared.config import calls_traced

logger = Logger()
metrics = Metrics()


class UntracedCalls:
    """The decorators of Powertools' Tracer, doing nothing: calls are not traced one by one."""

    def capture_method(self, method: Callable[..., Any]) -> Callable[..., Any]:
        return method

    def capture_lambda_handler(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        return handler


def _tracer() -> Any:
    if not calls_traced():
        return UntracedCalls()
    from aws_lambda_powertools import Tracer  # imports and patches with the X-Ray SDK

    return Tracer()


tracer = _tracer()
