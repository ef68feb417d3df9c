"""Console pages for registration openings: each opening's waiting room live (families in the
pre-queue or the line, checking out, admitted, the admission rate) with pause and resume.

The page polls ``/console/openings/status.json`` every 2 s with
``portal_console/static/portal_console/openings.js`` (self-hosted, no inline script) and updates
the figures in place; without JavaScript it still shows them as of the page load. Staff need
``portal_catalog.manage_registration_openings`` (owner, manager and front desk roles)."""

from __future__ import annotations

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.catalog import waiting_room
from portal.catalog.models import RegistrationOpening
from portal.catalog.selectors import registration_openings_for_staff

from .access import console_page, methods

MANAGE = "portal_catalog.manage_registration_openings"
POLL_SECONDS = 2


def _rows(now) -> list[dict]:
    rows = []
    for opening in registration_openings_for_staff(now=now):
        rows.append(
            {
                "opening": opening,
                "in_effect": opening.in_effect(now),
                "queue": waiting_room.queue_overview(opening=opening, now=now),
            }
        )
    return rows


def _figures(row: dict) -> dict:
    q = row["queue"]
    return {
        "id": row["opening"].pk,
        "in_effect": row["in_effect"],
        "opened": q["opened"],
        "paused": q["paused"],
        "all_full": q["all_full"],
        "pre_queue": q["pre_queue"],
        "waiting": q["waiting"],
        "checking_out": q["checking_out"],
        "admitted": q["admitted"],
        "checked_out": q["checked_out"],
        "admitted_last_minute": q["admitted_last_minute"],
        "rate_per_minute": q["estimated_rate_per_minute"],
    }


@methods("GET")
@console_page(MANAGE)
def openings(request):
    now = timezone.now()
    return render(
        request,
        "portal_console/openings.html",
        {"nav": "openings", "rows": _rows(now), "poll_seconds": POLL_SECONDS},
    )


@methods("GET")
@console_page(MANAGE)
def openings_status(request):
    """The figures of every opening, for the page's live update (no-store: always current)."""
    now = timezone.now()
    response = JsonResponse(
        {
            "openings": [_figures(row) for row in _rows(now)],
            "poll_seconds": POLL_SECONDS,
            "as_of": now.isoformat(),
            # In the business's time zone, as every time on the page.
            "as_of_display": timezone.localtime(now).strftime("%H:%M:%S"),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@methods("POST")
@console_page(MANAGE)
def opening_pause(request, opening_id: int):
    paused = request.POST.get("paused", "")
    if paused not in ("1", "0"):
        messages.error(request, _("Choose pause or resume."))
        return redirect("/console/openings/")
    try:
        opening = registration_openings_for_staff(now=timezone.now()).get(pk=opening_id)
    except RegistrationOpening.DoesNotExist:
        exc = waiting_room.not_found()
        return render(
            request,
            "portal_console/error.html",
            {"nav": "openings", "error": exc},
            status=exc.status,
        )
    try:
        waiting_room.opening_pause(opening=opening, paused=paused == "1")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("/console/openings/")
    if paused == "1":
        note = _("%(name)s is paused: nobody new is let in.")
    else:
        note = _("%(name)s is letting families in again.")
    messages.success(request, note % {"name": opening.name})
    return redirect("/console/openings/")
