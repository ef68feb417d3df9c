"""A JSON number or boolean where the schema says string is refused (400, nothing changed)."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from portal.accounts.models import Family
from tests.helpers import assert_error


class _Input(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.EmailField(required=False)


@pytest.mark.parametrize("value", [-504, 12.5, True, ["x"], {"a": "b"}])
def test_a_string_field_takes_only_strings(value):
    data = _Input(data={"name": value})
    assert not data.is_valid()
    assert data.errors["name"][0].code == "invalid"


def test_strings_still_pass_and_are_cleaned():
    data = _Input(data={"name": "  Dana  ", "email": "d@example.com"})
    assert data.is_valid(), data.errors
    assert data.validated_data["name"] == "Dana"


def test_the_family_api_refuses_a_number_for_a_postal_code(family_a):
    before = Family.objects.values("postal_code").get(pk=family_a.family.pk)
    response = family_a.client().patch("/api/v1/family", {"postal_code": -504}, format="json")
    assert_error(response, 400, "invalid_input")
    assert "postal_code" in response.json()["fields"]
    assert Family.objects.values("postal_code").get(pk=family_a.family.pk) == before
