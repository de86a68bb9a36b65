"""The template deploys as it is: `sam validate --lint` passes and `sam build` packages the layer
with its pinned dependencies and each function with the code its handler needs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.stack import LOCAL_PARAMETERS, RUNTIME_ENVIRONMENT
from devstack.template import REPO_ROOT, Template

pytestmark = pytest.mark.sam

REGION = "us-east-1"
LAYER_REQUIREMENTS = REPO_ROOT / "layers" / "shared" / "requirements.txt"
META_ROUTES = {"/health", "/openapi.json", "/docs"}

# Runs in a bare interpreter (-I -S: no site-packages, no PYTHONPATH) whose path is only what
# Lambda gives the function: its code (/var/task) and the layer (/opt/python).
INVOKE_BUILT_HANDLER = """
import importlib.util, json, sys
code, layer, handler_file, handler_name, event_file = sys.argv[1:6]
sys.path[:0] = [code, layer]
spec = importlib.util.spec_from_file_location("built_handler", handler_file)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
class Context:
    function_name = "leads-meta"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:leads-meta"
    aws_request_id = "local"
with open(event_file, encoding="utf-8") as stream:
    event = json.load(stream)
print("RESULT " + json.dumps(getattr(module, handler_name)(event, Context())))
"""


def sam_cli() -> str:
    for candidate in (os.environ.get("SAM_CLI"), str(REPO_ROOT / ".venv-sam" / "bin" / "sam")):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("SAM CLI not found: set SAM_CLI or run `make install` (creates .venv-sam/bin/sam)")


def sam_environment() -> dict[str, str]:
    """The SAM CLI has its own virtualenv: nothing of the tests' (emulator endpoint, PYTHONPATH)."""
    dropped = {"AWS_ENDPOINT_URL", "AWS_PROFILE", "PYTHONPATH"}
    environment = {name: value for name, value in os.environ.items() if name not in dropped}
    environment["SAM_CLI_TELEMETRY"] = "0"
    return environment


def run_sam(*arguments: str, timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sam_cli(), *arguments],
        cwd=REPO_ROOT,
        env=sam_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def pinned_requirements() -> dict[str, str]:
    """`name[extras]==version` lines of the layer's requirements.txt: normalised name -> version."""
    pins = {}
    for line in LAYER_REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+).*", line)
        if match:
            pins[re.sub(r"[-_.]+", "_", match.group(1)).lower()] = match.group(2)
    return pins


def installed_distributions(site: Path) -> dict[str, str]:
    found = {}
    for dist_info in site.glob("*.dist-info"):
        name, _, version = dist_info.name.removesuffix(".dist-info").partition("-")
        found[re.sub(r"[-_.]+", "_", name).lower()] = version
    return found


def function_serving(path: str) -> str:
    """Logical id of the function behind a route of the template (its folder in the build)."""
    (function_id,) = {
        route.function_id
        for route in Template.load().api_routes()
        if route.path == path and route.method != "ANY"
    }
    return function_id


def layer_site(build_dir: Path) -> Path:
    """The built shared layer's `python/` folder (what Lambda mounts as /opt/python)."""
    (layer_id,) = Template.load().resources_of_type("AWS::Serverless::LayerVersion")
    return build_dir / layer_id / "python"


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("sam") / "build"
    # --no-cached: a clean build, as from a fresh checkout (samconfig.toml may turn caching on,
    # which would also write .aws-sam/ into the repository).
    result = run_sam("build", "--build-dir", str(build), "--no-cached", "--region", REGION, timeout=600)
    assert result.returncode == 0, f"sam build failed:\n{result.stdout}\n{result.stderr}"
    return build


def test_sam_validate_lint_passes() -> None:
    result = run_sam("validate", "--lint", "--region", REGION, timeout=180)
    assert result.returncode == 0, f"sam validate --lint failed:\n{result.stdout}\n{result.stderr}"


def test_build_packages_the_layer_with_its_pinned_dependencies(build_dir: Path) -> None:
    site = layer_site(build_dir)
    assert (site / "leads_shared" / "__init__.py").is_file()
    for package in ("pydantic", "jwt", "aws_lambda_powertools"):
        assert (site / package).is_dir(), f"the layer lacks {package}"
    pins = pinned_requirements()
    assert pins, f"no pinned requirement found in {LAYER_REQUIREMENTS}"
    installed = installed_distributions(site)
    wrong = {
        name: (version, installed.get(name))
        for name, version in pins.items()
        if installed.get(name) != version
    }
    assert not wrong, f"pinned (wanted, built) versions that differ in the layer: {wrong}"


def test_build_packages_each_function_with_its_code(build_dir: Path) -> None:
    assert (build_dir / function_serving("/leads") / "app.py").is_file()
    meta = build_dir / function_serving("/openapi.json")
    # The meta function reads every function's routes for its merged OpenAPI document.
    assert (meta / "meta" / "app.py").is_file()
    assert (meta / "leads" / "app.py").is_file()


def test_built_meta_function_documents_every_route(build_dir: Path) -> None:
    """Run the built handler of `GET /openapi.json` as Lambda would: nothing but its built code and
    the built layer on its path, and the environment the template gives it."""
    template = Template.load(parameter_overrides=LOCAL_PARAMETERS)
    routes = template.api_routes()
    function_id = function_serving("/openapi.json")
    spec = template.function(function_id)
    code = build_dir / function_id
    environment = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
    environment |= {**template.environment(function_id), **RUNTIME_ENVIRONMENT}
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            INVOKE_BUILT_HANDLER,
            str(code),
            str(layer_site(build_dir)),
            str(code / spec.handler_file.relative_to(spec.code_root)),
            spec.handler_name,
            str(REPO_ROOT / "events" / "meta" / "openapi.json"),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, f"the built handler failed:\n{result.stdout}\n{result.stderr}"
    response = json.loads(lines[-1].removeprefix("RESULT "))
    assert response["statusCode"] == 200, response
    paths = json.loads(response["body"])["paths"]
    documented = {(path, method.upper()) for path, item in paths.items() for method in item}
    expected = {
        (route.path, route.method)
        for route in routes
        if route.path not in META_ROUTES and route.method != "ANY"
    }
    assert expected <= documented, f"missing from the deployed document: {sorted(expected - documented)}"
