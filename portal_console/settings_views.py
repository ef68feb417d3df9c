"""The settings area of the console (/console/settings/...): the business's portal settings
grouped as the product groups them. Each page is one form from portal.config.forms and saves
through ``portal_settings_change``, the service the staff API uses too."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.config.forms import SettingsForm
from portal.config.models import SignupQuestion
from portal.config.selectors import portal_settings_get, signup_question_list
from portal.config.services import (
    portal_settings_change,
    signup_question_delete,
    signup_question_save,
)
from portal.config.settings_schema import PAGES_BY_KEY

from .access import console_page, methods
from .settings_nav import AREA_PERMISSIONS, settings_nav_for


def settings_context(request, current: str, **extra) -> dict:
    """What every settings page's template needs (the settings navigation and its place)."""
    return {
        "nav": "settings",
        "settings_nav": settings_nav_for(request.user),
        "settings_current": current,
        **extra,
    }


@methods("GET")
@console_page(*AREA_PERMISSIONS, any_of=True)
def settings_index(request):
    return render(request, "portal_console/settings_index.html", settings_context(request, ""))


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
        settings_context(
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


def _question_values(post) -> dict:
    return {
        "label": post.get("label", "")[:150],
        "help_text": post.get("help_text", "")[:300],
        "kind": post.get("kind", ""),
        "choices": post.get("choices", "")[:2000],
        "required": post.get("required") == "on",
        "is_active": post.get("is_active") == "on",
        "sort_order": _small_int(post.get("sort_order", "")),
    }


def _small_int(raw: str) -> int:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 4 else 0


def _questions_page(request, status: int = 200, **extra):
    extra.setdefault("values", {"is_active": True})
    return render(
        request,
        "portal_console/settings_questions.html",
        settings_context(
            request,
            "signup-questions",
            questions=list(signup_question_list(include_inactive=True)),
            kinds=SignupQuestion.Kind.choices,
            **extra,
        ),
        status=status,
    )


@methods("GET", "POST")
@console_page("manage_settings")
def settings_questions(request):
    """The business's own signup questions: the list, and a new one added."""
    if request.method == "GET":
        return _questions_page(request)
    values = _question_values(request.POST)
    try:
        signup_question_save(values=values)
    except ApplicationError as exc:
        return _questions_page(request, status=exc.status, error=exc, values=values)
    messages.success(request, _("Question added. Families answer it when they sign up."))
    return redirect("/console/settings/signup-questions/")


@methods("POST")
@console_page("manage_settings")
def settings_question(request, question_id: int):
    """Change one question (``action=save``) or remove it (``action=delete``)."""
    try:
        if request.POST.get("action") == "delete":
            signup_question_delete(question_id=question_id)
            messages.success(request, _("Question removed; the answers already given stay."))
        else:
            signup_question_save(question_id=question_id, values=_question_values(request.POST))
            messages.success(request, _("Question saved."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _questions_page(request, status=exc.status)
    return redirect("/console/settings/signup-questions/")
