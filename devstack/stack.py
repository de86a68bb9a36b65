"""The whole local stack in one process: emulator and resources, environment, seed data, gateway, pollers."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from devstack.emulator import Emulator, start_emulator
from devstack.gateway import LocalGateway
from devstack.poller import SqsPoller
from devstack.runtime import LambdaFunction
from devstack.stream_poller import StreamPoller
from devstack.template import TEMPLATE_PATH, Template

logger = logging.getLogger("devstack.access")

# Parameter values for local runs (template.yaml: "The local default `local-dev-secret` is used by
# `make dev` only").
LOCAL_PARAMETERS = {"JwtSecret": "local-dev-secret"}
RUNTIME_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "1", "AWS_XRAY_SDK_ENABLED": "false"}
RUNTIME_DEFAULTS = {"POWERTOOLS_METRICS_NAMESPACE": "leads-local"}


class EnvironmentConflictError(RuntimeError):
    """Two functions need different values for one variable, but they share this process."""


@dataclass
class LocalStack:
    base_url: str
    emulator: Emulator
    tokens: list[Any]  # demo_tokens() when seeded, else []
    _resources: contextlib.ExitStack
    dropbox: tuple[str, str] | None = None  # (bucket, inbound domain) when the stack captures email

    @property
    def emulator_url(self) -> str:
        return self.emulator.endpoint_url

    def stop(self) -> None:
        """Stop the pollers, the server and the emulator; restore os.environ."""
        self._resources.close()


def functions_environment(template: Template) -> dict[str, str]:
    """The union of every function's environment; a variable with two different values is an error."""
    union: dict[str, str] = {}
    owners: dict[str, str] = {}
    for function_id in template.functions():
        for name, value in template.environment(function_id).items():
            if name in union and union[name] != value:
                raise EnvironmentConflictError(
                    f"{name} is {union[name]!r} for {owners[name]} but {value!r} for {function_id}; "
                    "all functions run in one process locally"
                )
            union[name], owners[name] = value, function_id
    return union


@contextlib.contextmanager
def _patched_environment(values: Mapping[str, str]) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _AccessLogHandler(WSGIRequestHandler):
    """Access log lines on our logger, so that the emulator's (werkzeug's) can be silenced apart."""

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 (werkzeug's signature)
        getattr(logger, type)(f"{self.address_string()} {message}", *args)


def start_local_stack(
    port: int = 0,
    seed: bool = True,
    host: str = "127.0.0.1",
    template_path: Path = TEMPLATE_PATH,
    parameter_overrides: Mapping[str, str] | None = None,
) -> LocalStack:
    """Start everything; port 0 picks a free port. Call .stop() when done (it also restores os.environ)."""
    template = Template.load(template_path, {**LOCAL_PARAMETERS, **(parameter_overrides or {})})
    resources = contextlib.ExitStack()
    try:
        emulator = start_emulator(template)
        resources.callback(emulator.stop)
        template = emulator.template
        environment = {
            **RUNTIME_DEFAULTS,
            **functions_environment(template),
            **emulator.client_environment,
            **RUNTIME_ENVIRONMENT,
        }
        resources.enter_context(_patched_environment(environment))

        tokens: list[Any] = []
        if seed:
            from devstack.seed import demo_tokens, seed_demo_data

            seed_demo_data()
            tokens = list(demo_tokens())

        functions = {function_id: LambdaFunction(spec) for function_id, spec in template.functions().items()}
        for function in functions.values():  # eager: import errors show at start, not on first request
            function.load()
        gateway = LocalGateway(template.api_routes(), template.apis(), functions)
        server = make_server(host, port, gateway, threaded=True, request_handler=_AccessLogHandler)
        server_thread = threading.Thread(target=server.serve_forever, name="local-gateway", daemon=True)
        server_thread.start()
        resources.callback(server_thread.join)
        resources.callback(server.server_close)
        resources.callback(server.shutdown)

        poller = SqsPoller(emulator, template.sqs_sources(), functions)
        poller.start()
        resources.callback(poller.stop)
        # After the seed: its writes are behind a LATEST starting position, so they are not
        # replayed into the stream-fed functions (as on AWS, where the mapping starts after them).
        stream_poller = StreamPoller(emulator, template.stream_sources(), functions)
        stream_poller.start()
        resources.callback(stream_poller.stop)
    except BaseException:
        resources.close()
        raise
    bucket, domain = environment.get("BUCKET_NAME"), environment.get("INBOUND_DOMAIN")
    dropbox = (bucket, domain) if bucket and domain else None
    return LocalStack(f"http://{host}:{server.server_port}", emulator, tokens, resources, dropbox)
