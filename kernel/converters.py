"""URL path converters shared by the deliveries. ``<isodate:day>``: a calendar date written
YYYY-MM-DD, given to the view as a ``date``; an impossible date (2026-02-30) matches no route
(404). Registered once, when a URL map first imports this module."""

from __future__ import annotations

from datetime import date

from django.urls import register_converter


class IsoDateConverter:
    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> date:
        return date.fromisoformat(value)  # ValueError: no match

    def to_url(self, value: date | str) -> str:
        return value.isoformat() if isinstance(value, date) else str(value)


register_converter(IsoDateConverter, "isodate")
