"""Strings are strings: a JSON number or boolean sent where the schema says string is a 400.

DRF's ``CharField`` turns ``{"postal_code": -504}`` into ``"-504"`` and accepts it, so the API
took input its own OpenAPI schema declares invalid (schemathesis' ``negative_data_rejection``
found it). One rule for every serializer of the platform, installed once when the apps load
(``kernel.users``' ready): a ``CharField`` (and its kin: email, slug, URL, regex fields)
accepts only ``str``. Form posts and query strings are strings already, so the web pages and
query parsing are unchanged."""

from __future__ import annotations

from rest_framework import serializers

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    lenient = serializers.CharField.to_internal_value

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return lenient(self, data)

    serializers.CharField.to_internal_value = to_internal_value  # type: ignore[method-assign]
    _installed = True
