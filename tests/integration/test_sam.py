"""The template deploys as it is: `sam build` packages the layer with its pinned dependencies and
each function with the code its handler needs (`sam validate --lint` runs in `make lint`)."""

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
from tests.support import lambda_artifact

pytestmark = pytest.mark.sam

REGION = "us-east-1"
LAYER_REQUIREMENTS = REPO_ROOT / "layers" / "shared" / "requirements.txt"
META_ROUTES = {"/health", "/openapi.json", "/docs"}

# The scripts below run in a bare interpreter (-I -S: no site-packages, no PYTHONPATH; -B: no
# bytecode written) whose path is only what Lambda gives the function: its code (/var/task) and
# the layer (/opt/python). They import the handler's module as Lambda's runtime does, and report
# every source file the import system had to compile to bytecode on the way (`compiled`).
BARE_INTERPRETER = (sys.executable, "-I", "-S", "-B", "-c")
COUNT_COMPILED = """
import importlib, json, os, sys
import _frozen_importlib_external as loaders
compiled = []
source_to_code = loaders.SourceLoader.source_to_code
def compiling(loader, data, path, *args, **kwargs):
    compiled.append(str(path))
    return source_to_code(loader, data, path, *args, **kwargs)
loaders.SourceLoader.source_to_code = compiling
"""
INVOKE_BUILT_HANDLER = (
    COUNT_COMPILED
    + """
code, layer, module_name, handler_name, event_file = sys.argv[1:6]
sys.path[:0] = [code, layer]
module = importlib.import_module(module_name)
print("COMPILED " + json.dumps(compiled))
if event_file == "-":
    raise SystemExit(0)
class Context:
    function_name = "leads-meta"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:leads-meta"
    aws_request_id = "local"
with open(event_file, encoding="utf-8") as stream:
    event = json.load(stream)
print("RESULT " + json.dumps(getattr(module, handler_name)(event, Context())))
"""
)
# The same, for every function in turn in one interpreter (each with its own code on the path and
# its own environment; the layer's modules are imported, and checked, once): fed on stdin, one
# JSON list of [function id, code folder, module, environment].
IMPORT_EVERY_BUILT_HANDLER = (
    COUNT_COMPILED
    + """
sys.path.insert(0, sys.argv[1])
for function_id, code, module_name, environment in json.load(sys.stdin):
    os.environ.clear()
    os.environ.update(environment)
    sys.path.insert(0, code)
    importlib.import_module(module_name)
    print("COMPILED " + json.dumps([function_id, compiled]))
    compiled.clear()
    sys.path.remove(code)
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(code):
            del sys.modules[name]
"""
)


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
    # The build runs `python3.13` (packaging/Makefile): the interpreter running these tests.
    interpreter_dir = str(Path(sys.executable).resolve().parent)
    environment["PATH"] = os.pathsep.join([interpreter_dir, environment.get("PATH", "")])
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
def lambda_root(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built functions and layer as Lambda unpacks them (1980-dated files), with this
    machine's native extensions in place of the layer's aarch64 ones (tests/support/lambda_artifact.py)."""
    root = lambda_artifact.unpack(
        build_dir, layer_site(build_dir).parent.name, tmp_path_factory.mktemp("lambda")
    )
    lambda_artifact.use_host_native_code(root)
    return root


def run_built_handler(
    lambda_root: Path, function_id: str, event_file: Path | None, environment: dict[str, str]
) -> tuple[list[str], dict[str, object] | None]:
    """Import (and with an event, invoke) a function's handler from ``lambda_root`` in a fresh
    bare interpreter: the source files it compiled, and its response."""
    spec = Template.load().function(function_id)
    result = subprocess.run(
        [
            *BARE_INTERPRETER,
            INVOKE_BUILT_HANDLER,
            str(lambda_root / function_id),
            str(lambda_root / "opt" / "python"),
            spec.handler_module,
            spec.handler_name,
            str(event_file) if event_file else "-",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    compiled_lines = [line for line in result.stdout.splitlines() if line.startswith("COMPILED ")]
    assert result.returncode == 0 and compiled_lines, (
        f"the built handler failed:\n{result.stdout}\n{result.stderr}"
    )
    compiled = json.loads(compiled_lines[-1].removeprefix("COMPILED "))
    results = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    response = json.loads(results[-1].removeprefix("RESULT ")) if results else None
    return compiled, response


def lambda_environment(function_id: str) -> dict[str, str]:
    """What the template gives the function, with the local stack's settings, and nothing of ours."""
    template = Template.load(parameter_overrides=LOCAL_PARAMETERS)
    environment = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
    return environment | {**template.environment(function_id), **RUNTIME_ENVIRONMENT}


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("sam") / "build"
    # --no-cached: a clean build, as from a fresh checkout (samconfig.toml may turn caching on,
    # which would also write .aws-sam/ into the repository).
    result = run_sam("build", "--build-dir", str(build), "--no-cached", "--region", REGION, timeout=600)
    assert result.returncode == 0, f"sam build failed:\n{result.stdout}\n{result.stderr}"
    return build


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


def test_built_meta_function_documents_every_route(lambda_root: Path) -> None:
    """Run the built handler of `GET /openapi.json` as Lambda would: nothing but its built code and
    the built layer on its path, and the environment the template gives it."""
    routes = Template.load(parameter_overrides=LOCAL_PARAMETERS).api_routes()
    function_id = function_serving("/openapi.json")
    event = REPO_ROOT / "events" / "meta" / "openapi.json"
    _, response = run_built_handler(lambda_root, function_id, event, lambda_environment(function_id))
    assert response is not None and response["statusCode"] == 200, response
    paths = json.loads(response["body"])["paths"]
    documented = {(path, method.upper()) for path, item in paths.items() for method in item}
    expected = {
        (route.path, route.method)
        for route in routes
        if route.path not in META_ROUTES and route.method != "ANY"
    }
    assert expected <= documented, f"missing from the deployed document: {sorted(expected - documented)}"


def test_layer_carries_lambdas_arm64_wheels_and_no_other_native_code(build_dir: Path) -> None:
    """The functions run on arm64 (Graviton): every native extension of the layer is an aarch64
    build for CPython 3.13, whatever machine ran `sam build`."""
    site = layer_site(build_dir)
    natives = sorted(site.rglob("*.so"))
    assert natives, "no native extension in the layer: pydantic-core and cryptography have some"
    foreign = [
        str(path.relative_to(site)) for path in natives if "x86_64" in path.name or "amd64" in path.name
    ]
    assert not foreign, f"x86_64 shared objects in an arm64 layer: {foreign}"
    for distribution in ("pydantic_core", "cryptography"):
        (dist_info,) = site.glob(f"{distribution}-*.dist-info")
        tags = [line for line in (dist_info / "WHEEL").read_text().splitlines() if line.startswith("Tag:")]
        assert tags and all("aarch64" in tag for tag in tags), f"{distribution}: {tags}"
        assert any("cp313" in tag or "abi3" in tag for tag in tags), f"{distribution}: {tags}"
    for path in natives:  # ELF header: e_machine 183 is AArch64
        header = path.read_bytes()[:20]
        assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 183, path


def test_every_handler_imports_from_the_zipped_artifact_without_compiling(lambda_root: Path) -> None:
    """SAM zips with 1980 timestamps, so bytecode checked against source times would never be used
    on Lambda: each cold start would compile every module again. The artifact's bytecode is
    hash-based (packaging/Makefile): importing each handler, as Lambda does, from the unpacked zip
    with no bytecode written compiles no source file at all."""
    template = Template.load()
    functions = [
        [function_id, str(lambda_root / function_id), spec.handler_module, lambda_environment(function_id)]
        for function_id, spec in (
            (function_id, template.function(function_id)) for function_id in template.functions()
        )
    ]
    result = subprocess.run(
        [
            *BARE_INTERPRETER,
            IMPORT_EVERY_BUILT_HANDLER,
            str(lambda_root / "opt" / "python"),
        ],
        input=json.dumps(functions),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"a built handler failed to import:\n{result.stdout}\n{result.stderr}"
    imported = dict(
        json.loads(line.removeprefix("COMPILED "))
        for line in result.stdout.splitlines()
        if line.startswith("COMPILED ")
    )
    assert set(imported) == {function_id for function_id, *_ in functions}
    for function_id, compiled in imported.items():
        assert compiled == [], f"{function_id} compiled {len(compiled)} source files, e.g. {compiled[:3]}"
