"""Garbage input is a clear 400 that changes nothing: NUL characters (path, query string, form
fields, JSON strings), lone surrogates in JSON, JSON nested too deep (refused before parsing)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from kernel.api.parsers import MAX_JSON_DEPTH, json_depth
from kernel.users.models import User
from tests.helpers import assert_error, client_for, host_of

pytestmark = pytest.mark.django_db
SIGNUP = "/api/v1/auth/signup"


def _users(tenant) -> int:
    with tenant_context(tenant):
        count = User.objects.count()
    connection.set_schema_to_public()
    return count


@pytest.mark.parametrize(
    "body, message",
    [
        ('{"first_name": "\\ud800", "last_name": "B", "email": "s@alpha.test", '
         '"password": "a long passphrase"}', "lone surrogate"),
        ('{"first_name": "A\\u0000", "last_name": "B", "email": "s@alpha.test", '
         '"password": "a long passphrase"}', "NUL character"),
        ("[" * 5000 + "]" * 5000, "nested deeper than 32"),
        ('{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1), "nested deeper"),
        ('{"first_name": NaN}', "NaN"),
    ],
)  # fmt: skip
def test_bad_json_is_a_400_that_creates_nothing(tenant_a, body, message):
    before = _users(tenant_a)
    response = client_for(tenant_a).post(SIGNUP, data=body, content_type="application/json")
    error = assert_error(response, 400, "malformed_request")
    assert message in error["message"]
    assert _users(tenant_a) == before


def test_nul_in_the_query_string_or_path_is_a_400_everywhere(tenant_a):
    api = client_for(tenant_a)
    assert_error(api.get("/api/v1/offerings?q=%00"), 400, "malformed_request")
    assert_error(client_for(None).get("/api/platform/v1/directory?q=a%00"), 400,
                 "malformed_request")  # fmt: skip
    web = Client(HTTP_HOST=host_of(tenant_a))
    page = web.get("/classes/?q=%00")
    assert page.status_code == 400 and b"NUL character" in page.content
    assert web.get("/classes%00/").status_code == 400


def test_nul_in_a_form_field_is_a_400_and_nobody_signs_up(tenant_a):
    before = _users(tenant_a)
    web = Client(HTTP_HOST=host_of(tenant_a))
    form = {"first_name": "A", "last_name": "B", "email": "n\x00@alpha.test", "password": "x"}
    response = web.post("/signup/", form)
    assert response.status_code == 400 and b"NUL character" in response.content
    assert web.post("/login/", {"email": "\x00", "password": "x"}).status_code == 400
    assert _users(tenant_a) == before


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth(b"[]") == 1
    assert json_depth(b'{"a": "[[[[{{{", "b": [{"c": 1}]}') == 3
    assert json_depth(b'["\\"[[["]') == 1
    assert json_depth(b"") == 0 and json_depth(b"1") == 0
