"""Any unmatched path under /api/ answers JSON {"code": "not_found"}, never HTML, on tenant hosts
and on the root host, whatever the method, trailing slash or DEBUG."""

import pytest

from tests.helpers import client_for

PATHS = [
    "/api/",
    "/api",
    "/api/no-such",
    "/api/v1/no-such",
    "/api/v1/no-such/",
    "/api/v1/offerings/nope/deeper",
    "/api/v2/offerings",
    "/api/platform/v1/no-such",
    "/api/platform/v1/tenants/nobody/app/nothing",
]


def _assert_json_not_found(response):
    assert response.status_code == 404, (response.status_code, response.content[:200])
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unmatched_api_paths_on_a_tenant_host_answer_json(in_tenant_a, path, method):
    _assert_json_not_found(getattr(client_for(in_tenant_a), method)(path))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_unmatched_api_paths_on_the_root_host_answer_json(db, path, method):
    _assert_json_not_found(getattr(client_for(None), method)(path))


@pytest.mark.parametrize("path", ["/api/v1/no-such", "/api/platform/v1/no-such", "/api/x"])
def test_unmatched_api_paths_answer_json_with_debug_on(in_tenant_a, settings, path):
    settings.DEBUG = True
    _assert_json_not_found(client_for(in_tenant_a).get(path))
    _assert_json_not_found(client_for(None).get(path))


def test_other_unknown_pages_stay_html(in_tenant_a):
    response = client_for(in_tenant_a).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
