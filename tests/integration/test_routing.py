"""A path the API does not have is a 404, a method a path does not serve is a 405 with `Allow`,
both in the API's envelope, and both decided by the API itself (the template's ANY fallbacks,
answered by the meta function), so that they are the same on AWS and locally."""

from __future__ import annotations

import re

import pytest

from devstack.template import Template

ROUTES = [route for route in Template.load().api_routes() if route.method != "ANY"]
PATHS = sorted({route.path for route in ROUTES})


def test_every_path_has_an_any_fallback_and_there_is_a_catch_all():
    fallbacks = {route.path for route in Template.load().api_routes() if route.method == "ANY"}
    assert set(PATHS) <= fallbacks, "add an ANY event for these paths to MetaFunction"
    assert "/{proxy+}" in fallbacks


@pytest.mark.parametrize("path", PATHS)
def test_other_methods_are_405_with_allow(tenant, path):
    served = sorted(route.method for route in ROUTES if route.path == path)
    concrete = re.sub(r"\{\w+\}", "1", path)
    for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - set(served):
        response = tenant.anonymous().request(method, concrete)
        assert response.status_code == 405, (method, path)
        assert response.headers["Allow"] == ", ".join(served)
        assert response.json == {
            "message": f"The {method} method is not supported for route {concrete.strip('/')}. "
            f"Supported methods: {', '.join(served)}."
        }


@pytest.mark.parametrize("path", ["/nowhere", "/leads/1/nowhere", "/leads/1/notes/2/extra", "/LEADS", "/"])
def test_unknown_paths_are_404(tenant, path):
    response = tenant.as_user(2).get(path)
    assert response.status_code == 404
    assert response.json == {"message": f"The route {path.strip('/') or '/'} could not be found."}
