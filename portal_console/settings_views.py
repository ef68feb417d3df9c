"""The settings area of the console (/console/settings/...): the business's portal settings
grouped as the product groups them. Each page is one form from portal.config.forms and saves
through ``portal_settings_change``, the service the staff API uses too."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from portal.config.forms import SettingsForm
from portal.config.selectors import portal_settings_get
from portal.config.services import portal_settings_change
from portal.config.settings_schema import PAGES_BY_KEY
from saas_platform.errors import ApplicationError

from .access import console_page, methods
from .settings_nav import AREA_PERMISSIONS, settings_nav_for


def _context(request, current: str, **extra) -> dict:
    return {
        "nav": "settings",
        "settings_nav": settings_nav_for(request.user),
        "settings_current": current,
        **extra,
    }


@methods("GET")
@console_page(*AREA_PERMISSIONS, any_of=True)
def settings_index(request):
    return render(request, "portal_console/settings_index.html", _context(request, ""))


@methods("GET", "POST")
@console_page("manage_settings")
def settings_page(request, key: str):
    page = PAGES_BY_KEY.get(key)
    if page is None:
        raise Http404("No such settings page.")
    currency = request.tenant.currency
    row = portal_settings_get(request)
    status = 200
    if request.method == "POST":
        form = SettingsForm(request.POST, page=page, row=row, currency=currency)
        if form.is_valid():
            try:
                portal_settings_change(changes=form.changes())
            except ApplicationError as exc:
                form.add_service_error(exc)
                status = exc.status
            else:
                messages.success(request, _("Saved. Families see the change at once."))
                return redirect(request.path)
        else:
            status = 400
    else:
        form = SettingsForm(page=page, row=row, currency=currency)
    sections = [
        {"section": section, "fields": [form[name] for name in section.fields]}
        for section in page.sections
    ]
    return render(
        request,
        "portal_console/settings_page.html",
        _context(
            request,
            page.key,
            page=page,
            form=form,
            sections=sections,
            zone=request.tenant.timezone,
            currency=currency,
        ),
        status=status,
    )
