"""Announcements and alerts (/console/settings/announcements/): the business's banners and
news items, their audience, dates (in its time zone) and severity, and the optional email to
the audience. Forms are validated with the staff API's input schema
(``portal.config.inputs.AnnouncementInput``) and saved through the same services."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kernel.errors import ApplicationError
from portal.config.announcements import (
    announcement_delete,
    announcement_email_queue,
    announcement_save,
)
from portal.config.inputs import AnnouncementInput, input_validate
from portal.config.models import Announcement
from portal.config.selectors import announcement_program_choices, announcement_staff_list

from .access import console_page, methods
from .settings_views import settings_context

URL = "/console/settings/announcements/"


def _posted(post) -> dict:
    """The form as the input schema reads it (checkboxes present or not, empty dates None)."""
    return {
        "title": post.get("title", ""),
        "body": post.get("body", ""),
        "kind": post.get("kind", ""),
        "severity": post.get("severity", ""),
        "audience": post.get("audience", ""),
        "programs": [p for p in post.getlist("programs") if p][:100],
        "link_url": post.get("link_url", "").strip(),
        "starts_at": post.get("starts_at", "").strip() or None,
        "ends_at": post.get("ends_at", "").strip() or None,
        "is_published": post.get("is_published") == "on",
        "sort_order": post.get("sort_order", "").strip() or 0,
    }


def _page(request, status: int = 200, **extra):
    values = extra.pop("values", None) or {"is_published": True, "kind": "banner",
                                           "severity": "info", "audience": "everyone"}  # fmt: skip
    values["program_ids"] = {int(p) for p in values.get("programs", []) if str(p).isdigit()}
    rows = list(announcement_staff_list())
    for row in rows:
        row.program_ids = {p.pk for p in row.programs.all()}
    return render(
        request,
        "portal_console/settings_announcements.html",
        settings_context(
            request,
            "announcements",
            announcements=rows,
            values=values,
            programs=announcement_program_choices(),
            kinds=Announcement.Kind.choices,
            severities=Announcement.Severity.choices,
            audiences=Announcement.Audience.choices,
            zone=request.tenant.timezone,
            **extra,
        ),
        status=status,
    )


def _emailed_message(request, progress: dict) -> None:
    queued = progress["queued"]
    if queued:
        messages.success(
            request,
            ngettext(
                "The email is on its way to %(count)d family.",
                "The email is on its way to %(count)d families.",
                queued,
            )
            % {"count": queued},
        )
    else:
        messages.info(request, _("Every family of the audience has already been emailed."))


@methods("GET", "POST")
@console_page("manage_settings")
def announcements(request):
    """The list, and a new announcement added (and emailed, if asked)."""
    if request.method == "GET":
        return _page(request)
    posted = _posted(request.POST)
    try:
        values = input_validate(AnnouncementInput, posted)
        announcement = announcement_save(
            values=values, email_audience=request.POST.get("email_audience") == "on"
        )
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc, values=posted)
    messages.success(request, _("Announcement saved. Families see it while it is in effect."))
    if announcement.email_progress is not None:
        _emailed_message(request, announcement.email_progress)
    return redirect(URL)


@methods("POST")
@console_page("manage_settings")
def announcement(request, announcement_id: int):
    """Change one announcement (``action=save``), remove it (``action=delete``) or email it to
    its audience (``action=email``)."""
    action = request.POST.get("action", "save")
    try:
        if action == "delete":
            announcement_delete(announcement_id=announcement_id)
            messages.success(request, _("Announcement removed."))
        elif action == "email":
            _emailed_message(request, announcement_email_queue(announcement_id=announcement_id))
        else:
            values = input_validate(AnnouncementInput, _posted(request.POST))
            saved = announcement_save(
                announcement_id=announcement_id,
                values=values,
                email_audience=request.POST.get("email_audience") == "on",
            )
            messages.success(request, _("Announcement saved."))
            if saved.email_progress is not None:
                _emailed_message(request, saved.email_progress)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _page(request, status=exc.status, error_for=announcement_id, error=exc)
    return redirect(URL)
