"""The staff page: bios, photos and private-lesson availability, each shown only when the
business makes it visible (the same switches as the API's staff list)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.catalog.selectors import staff_list
from portal.config.selectors import portal_settings_get


@require_GET
def staff(request):
    portal = portal_settings_get(request)
    return render(
        request,
        "portal_web/staff.html",
        {
            "nav": "staff",
            "staff": list(staff_list()),
            "show_bios": portal.staff_bios_visible,
            "show_availability": portal.staff_availability_visible,
        },
    )
