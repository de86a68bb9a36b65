"""Run a template function's handler in this process, one invocation at a time, like a Lambda container."""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from devstack.template import ACCOUNT_ID, REGION, FunctionSpec


@dataclass
class LambdaContext:
    """The attributes and method of the Python runtime's context object that code uses."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline_epoch_s: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_epoch_s - time.time()) * 1000))


@dataclass
class LambdaFunction:
    spec: FunctionSpec
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _handler: Callable[[Any, LambdaContext], Any] | None = None

    def load(self) -> None:
        """Import the handler module (once) by file path, under a name unique to this function.

        The function's CodeUri folder is on sys.path while the module executes, as /var/task is in
        Lambda, so that it can import modules next to it.
        """
        with self._lock:
            if self._handler is None:
                self._handler = self._import_handler()

    def _import_handler(self) -> Callable[[Any, LambdaContext], Any]:
        module_name = "devstack_function_" + re.sub(r"\W", "_", self.spec.logical_id)
        spec = importlib.util.spec_from_file_location(module_name, self.spec.handler_file)
        if spec is None or spec.loader is None:
            raise ImportError(f"{self.spec.logical_id}: cannot load {self.spec.handler_file}")
        module: ModuleType = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        code_root = str(self.spec.code_root)
        sys.path.insert(0, code_root)
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
        finally:
            sys.path.remove(code_root)
        handler: Callable[[Any, LambdaContext], Any] = getattr(module, self.spec.handler_name)
        return handler

    def invoke(self, event: dict[str, Any]) -> Any:
        """Call the handler with event and a fresh context; exceptions propagate."""
        with self._lock:
            self.load()
            assert self._handler is not None
            context = LambdaContext(
                function_name=self.spec.name,
                memory_limit_in_mb=self.spec.memory_mb,
                invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.spec.name}",
                aws_request_id=str(uuid.uuid4()),
                deadline_epoch_s=time.time() + self.spec.timeout_s,
                log_group_name=f"/aws/lambda/{self.spec.name}",
            )
            return self._handler(event, context)
