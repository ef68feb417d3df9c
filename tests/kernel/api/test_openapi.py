"""The typed API contract (kernel/api/openapi.py): every nested object of both OpenAPI
documents has a declared shape, public operations say ``security: []``, and the one error
schema lists the registered codes. tests/mobile generates the TypeScript client from these
documents and type-checks the family app against it; tests/fuzz runs schemathesis with
``response_schema_conformance`` and ``negative_data_rejection``."""

from __future__ import annotations

import pytest

from kernel.error_codes import REGISTRY
from tests.helpers import client_for

# Free-form on purpose: a data export (GDPR) holds the rows of each table as they are; a staff
# report's rows are keyed by the columns the report itself lists (``columns``).
FREE_FORM = ("/FamilyExportOutput/", "/StaffReportOutput/properties/rows/")


def _schema(tenant, path):
    response = client_for(tenant).get(path, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def schemas(in_tenant_a):
    return {
        "family": _schema(in_tenant_a, "/api/v1/schema"),
        "platform": _schema(None, "/api/platform/v1/schema"),
    }


def _untyped(node, path=""):
    if isinstance(node, dict):
        loose = node.get("additionalProperties") in (None, {}, True)
        if node.get("type") == "object" and "properties" not in node and loose:
            yield path
        if node.get("type") == "array" and not node.get("items"):
            yield path
        for key, value in node.items():
            yield from _untyped(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _untyped(value, f"{path}[{index}]")


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def test_every_nested_object_is_typed(schemas):
    for name, schema in schemas.items():
        loose = [
            path
            for path in _untyped(schema["components"]["schemas"])
            if not path.startswith(FREE_FORM)
        ]
        assert loose == [], name


def test_the_offering_fields_families_read_are_typed(schemas):
    components = schemas["family"]["components"]["schemas"]
    offering = components["OfferingOutput"]["properties"]
    for field, component in (("availability", "AvailabilityOutput"), ("ages", "AgesOutput"),
                             ("price", "MoneyOutput"), ("schedule", "ScheduleOutput")):  # fmt: skip
        assert offering[field]["allOf"][0]["$ref"].endswith(f"/{component}"), field
    assert offering["levels"]["items"]["$ref"].endswith("/LevelOutput")
    availability = components["AvailabilityOutput"]
    assert availability["required"] == ["openings", "status", "waitlist"]
    settings = components["PortalConfig"]["properties"]["settings"]
    assert settings["$ref"].endswith("/PortalSettingsOutput")
    assert components["PortalSettingsOutput"]["properties"]["hold_timer_minutes"]["type"] == (
        "integer"
    )


PUBLIC = {
    "family": {
        ("GET", "/api/v1/offerings"),
        ("GET", "/api/v1/offerings/{offering_id}"),
        ("GET", "/api/v1/offerings/filters"),
        ("GET", "/api/v1/offerings/match"),
        ("GET", "/api/v1/portal"),
        ("GET", "/api/v1/policies"),
        ("GET", "/api/v1/announcements"),
        ("POST", "/api/v1/auth/token"),
        ("POST", "/api/v1/auth/signup"),
    },
    "platform": {("GET", "/api/platform/v1/directory"), ("POST", "/api/platform/v1/auth/token")},
}


def test_public_operations_say_security_empty(schemas):
    for name, schema in schemas.items():
        public = {(m, p) for m, p, op in _operations(schema) if op.get("security") == []}
        assert PUBLIC[name] <= public, name
        for method, path, operation in _operations(schema):
            if (method, path) not in public:
                assert operation["security"], (method, path)
                assert {} not in operation["security"], (method, path)


def test_private_operations_require_a_credential(schemas):
    operations = {(m, p): op for m, p, op in _operations(schemas["family"])}
    for key in [("GET", "/api/v1/family"), ("POST", "/api/v1/checkout"), ("GET", "/api/v1/cart")]:
        assert operations[key]["security"] == [{"bearerAuth": []}, {"cookieAuth": []}], key
    platform = {(m, p): op for m, p, op in _operations(schemas["platform"])}
    assert platform[("GET", "/api/platform/v1/tenants")]["security"]


def test_every_operation_documents_its_errors_with_the_registered_codes(schemas):
    for schema in schemas.values():
        error = schema["components"]["schemas"]["Error"]
        assert error["properties"]["code"]["enum"] == sorted(REGISTRY)
        for method, path, operation in _operations(schema):
            refused = operation["responses"]["4XX"]["content"]["application/json"]["schema"]
            assert refused == {"$ref": "#/components/schemas/Error"}, (method, path)


@pytest.mark.parametrize("urlconf", ["saas_platform.urls_tenant", "saas_platform.urls_public"])
def test_no_two_shapes_share_a_component_name(urlconf):
    """Two serializers with one component name are merged into one: one of the shapes is then
    documented wrong (the staff family detail's WaitlistOutput replaced the family's own)."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS._warn_cache.clear()
    SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    clashes = [w for w in GENERATOR_STATS._warn_cache if "identical names" in w]
    assert clashes == []
