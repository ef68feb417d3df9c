"""Staff bios, photos and availability (/console/settings/staff/): which staff appear on the
public staff page, their bio and photo, and their private-lesson times. Distinct from
/console/staff/ (staff accounts and roles). Forms are validated with the staff API's input
schemas (``portal.staff.inputs``) and saved through the same services."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.catalog.models import WEEKDAY_CODES, WEEKDAYS
from portal.config.inputs import input_validate
from portal.config.selectors import portal_settings_get
from portal.staff.inputs import AvailabilitySlotInput, StaffProfileInput
from portal.staff.profiles import (
    staff_availability_add,
    staff_availability_remove,
    staff_photo_remove,
    staff_photo_upload,
    staff_profile_save,
)
from portal.staff.selectors import location_choices, staff_profile_list

from .access import console_page, methods
from .settings_views import settings_context

URL = "/console/settings/staff/"


def _posted(post) -> dict:
    return {
        "display_name": post.get("display_name", ""),
        "title": post.get("title", ""),
        "bio": post.get("bio", ""),
        "is_active": post.get("is_active") == "on",
        "sort_order": post.get("sort_order", "").strip() or 0,
    }


def _page(request, status: int = 200, **extra):
    portal = portal_settings_get(request)
    values = extra.pop("values", None) or {"is_active": True}
    return render(
        request,
        "portal_console/settings_staff_profiles.html",
        settings_context(
            request,
            "staff-profiles",
            profiles=list(staff_profile_list()),
            locations=location_choices(),
            days=[(WEEKDAY_CODES[n], label) for n, label in WEEKDAYS],
            show_bios=portal.staff_bios_visible,
            show_availability=portal.staff_availability_visible,
            zone=request.tenant.timezone,
            values=values,
            **extra,
        ),
        status=status,
    )


@methods("GET", "POST")
@console_page("manage_settings")
def staff_profiles(request):
    """The staff page's people, and a new one added."""
    if request.method == "GET":
        return _page(request)
    posted = _posted(request.POST)
    try:
        staff_profile_save(values=input_validate(StaffProfileInput, posted))
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc, values=posted)
    messages.success(request, _("Staff member added to the staff page."))
    return redirect(URL)


def _refused(request, staff_id: int, exc: ApplicationError):
    messages.error(request, exc.message)
    return _page(request, status=exc.status, error_for=staff_id)


@methods("POST")
@console_page("manage_settings")
def staff_profile(request, staff_id: int):
    """Save one staff member's name, title, bio, visibility and position."""
    try:
        staff_profile_save(
            staff_id=staff_id, values=input_validate(StaffProfileInput, _posted(request.POST))
        )
    except ApplicationError as exc:
        return _refused(request, staff_id, exc)
    messages.success(request, _("Saved. The staff page shows the change at once."))
    return redirect(URL)


@methods("POST")
@console_page("manage_settings")
def staff_photo(request, staff_id: int):
    """Upload a photo (``photo``), or remove it (``action=remove``)."""
    try:
        if request.POST.get("action") == "remove":
            staff_photo_remove(staff_id=staff_id)
            messages.success(request, _("Photo removed."))
        else:
            upload = request.FILES.get("photo")
            staff_photo_upload(
                staff_id=staff_id,
                name=upload.name if upload else "",
                data=upload.read() if upload else b"",
            )
            messages.success(request, _("Photo saved."))
    except ApplicationError as exc:
        return _refused(request, staff_id, exc)
    return redirect(URL)


@methods("POST")
@console_page("manage_settings")
def staff_availability(request, staff_id: int):
    """Add a private-lesson time (``action=add``) or remove one (``action=remove``, ``slot``)."""
    try:
        if request.POST.get("action") == "remove":
            slot = request.POST.get("slot", "")
            staff_availability_remove(
                staff_id=staff_id, slot_id=int(slot) if slot.isdigit() and len(slot) < 10 else 0
            )
            messages.success(request, _("Time removed."))
        else:
            slot_values = input_validate(
                AvailabilitySlotInput,
                {
                    "day": request.POST.get("day", ""),
                    "start_time": request.POST.get("start_time", ""),
                    "end_time": request.POST.get("end_time", ""),
                    "location": request.POST.get("location") or None,
                    "note": request.POST.get("note", ""),
                },
            )
            staff_availability_add(staff_id=staff_id, slot=slot_values)
            messages.success(request, _("Time added."))
    except ApplicationError as exc:
        return _refused(request, staff_id, exc)
    return redirect(URL)
