"""What the template runs on: every function Python 3.13 on arm64, built by packaging/Makefile
(hash-based bytecode, aarch64 wheels); every API function published with SnapStart and without
a pile of old versions; the same Python here as on Lambda."""

from __future__ import annotations

import sys

import pytest

from devstack.template import Template

RUNTIME = "python3.13"


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load()


def api_functions(template: Template) -> set[str]:
    return {route.function_id for route in template.api_routes()}


def test_every_function_runs_python_3_13_on_arm64_built_by_the_packaging_makefile(template) -> None:
    functions = template.resources_of_type("AWS::Serverless::Function")
    assert functions
    for function_id, resource in functions.items():
        properties = template.properties(function_id)
        assert (properties["Runtime"], properties["Architectures"]) == (RUNTIME, ["arm64"]), function_id
        assert resource["Metadata"]["BuildMethod"] == "makefile", function_id
        assert resource["Metadata"]["ContextPath"] == "packaging", function_id
    for layer_id, resource in template.resources_of_type("AWS::Serverless::LayerVersion").items():
        properties = template.properties(layer_id)
        assert properties["CompatibleRuntimes"] == [RUNTIME], layer_id
        assert properties["CompatibleArchitectures"] == ["arm64"], layer_id
        assert resource["Metadata"]["BuildMethod"] == "makefile", layer_id


def test_every_api_function_is_published_with_snapstart_and_drops_old_versions(template) -> None:
    served = api_functions(template)
    assert len(served) >= 10
    for function_id in served:
        properties = template.properties(function_id)
        assert properties.get("SnapStart") == {"ApplyOn": "PublishedVersions"}, function_id
        assert properties.get("AutoPublishAlias") == "live", function_id
        assert properties.get("VersionDeletionPolicy") == "Delete", function_id


def test_tests_run_the_python_lambda_runs() -> None:
    assert f"python{sys.version_info.major}.{sys.version_info.minor}" == RUNTIME
