"""A "History" link on the admin pages of audited objects: the database's audit trail
(portal.privacy.history) of that one object, read-only."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html


def history_url(obj) -> str:
    query = urlencode({"obj": f"{obj._meta.label}:{obj.pk}", "method": "tracks"})
    return f"{reverse('admin:pghistory_middlewareevents_changelist')}?{query}"


class HistoryLinkMixin:
    """Adds the read-only field ``history`` (list it in ``readonly_fields``/``fields``)."""

    @admin.display(description="History")
    def history(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a href="{}">Every change, who and when</a>', history_url(obj))
