"""A query parameter the schema limits to an enum refuses every other value, an empty one too
(``?status=``), with ``invalid_filter`` (400): what the API fuzzer's negative_data_rejection
found on the activity inbox. Absent, it takes its default; a listed value is served."""

import pytest

from tests.helpers import assert_error, make_actor

pytestmark = pytest.mark.django_db

STAFF = [
    ("/api/v1/staff/activity", "status", "all"),
    ("/api/v1/staff/activity", "kind", "enrollment"),
    ("/api/v1/staff/autopay/charges", "status", "failed"),
    ("/api/v1/staff/payments/failed", "days", "7"),
    ("/api/v1/staff/requests", "status", "pending"),
    ("/api/v1/staff/requests", "type", "absence"),
    ("/api/v1/staff/reports/enrollment", "group_by", "level"),
    ("/api/v1/staff/reports/fill-rate", "kind", "camp"),
    ("/api/v1/staff/reports/waitlist", "current", "0"),
]


@pytest.fixture
def owner(tenant_a):
    return make_actor(tenant_a, email="enums-owner@alpha.test", role="owner")


@pytest.mark.parametrize(("path", "name", "good"), STAFF)
def test_staff_enum_parameters_refuse_empty_and_unknown_values(owner, path, name, good):
    client = owner.client()
    assert client.get(path).status_code == 200
    assert client.get(path, {name: good}).status_code == 200
    for bad in ("", "nonsense"):
        body = assert_error(client.get(path, {name: bad}), 400, "invalid_filter")
        assert name in body["fields"]


def test_family_ledger_period_refuses_empty(family_a):
    client = family_a.client()
    assert client.get("/api/v1/ledger", {"period": "all"}).status_code == 200
    assert_error(client.get("/api/v1/ledger", {"period": ""}), 400, "invalid_filter")


def test_the_refusal_is_in_the_callers_language(family_a):
    """The message and the field's sentence come from the catalog, the values as they are."""
    client = family_a.client()
    body = assert_error(
        client.get("/api/v1/ledger", {"period": "soon"}, HTTP_ACCEPT_LANGUAGE="es"),
        400,
        "invalid_filter",
    )
    assert body["message"] == "period debe ser uno de estos valores: 30d, all."
    assert body["fields"] == {"period": ["Elija una de estas opciones: 30d, all."]}
    body = assert_error(client.get("/api/v1/ledger", {"period": "soon"}), 400, "invalid_filter")
    assert body["message"] == "period is one of: 30d, all."
