"""Requests pages: report an absence, book a makeup with a token, ask for a transfer (with the
price preview) or a drop, see and cancel requests. Input is parsed by the request's input schema
(portal.requests.inputs, the API's too) and every rule is the service's
(portal.requests.services), exactly as for the API."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kernel.errors import ApplicationError
from portal.config.selectors import portal_settings_get
from portal.enrollment.models import Enrollment
from portal.enrollment.selectors import enrollment_active_get, enrollment_list, next_meetings
from portal.requests import services
from portal.requests.inputs import RequestInput
from portal.requests.models import Request
from portal.requests.selectors import (
    makeup_targets,
    makeup_token_get,
    makeup_tokens_available,
    request_history,
    transfer_targets,
)

from .api_input import api_validate
from .helpers import error_page, family_required, field_errors

MEETING_CHOICES = 16


def _back(request):
    return redirect("portal-requests")


def _not_found(request, what: str, message: str):
    return error_page(
        request,
        ApplicationError(f"{what}_not_found", message, status=404),
        back_url="/requests/",
        back_label=_("Back to requests"),
    )


def _active_enrollment(family, enrollment_id) -> Enrollment | None:
    return enrollment_active_get(family=family, enrollment_id=enrollment_id)


def _form_failed(request, template: str, context: dict, exc: ApplicationError):
    context.update(error=exc, errors=field_errors(exc), values=request.POST)
    return render(request, template, context, status=exc.status)


@family_required
def requests_home(request):
    family = request.guardian.family
    portal = portal_settings_get(request)
    enrollments = [e for e in enrollment_list(family) if e.status == Enrollment.Status.ACTIVE]
    tokens = makeup_tokens_available(family=family)
    history = request_history(family=family)
    return render(
        request,
        "portal_web/requests.html",
        {
            "nav": "requests",
            "enrollments": enrollments,
            "tokens": tokens,
            "history": history,
            "portal": portal,
        },
    )


@require_http_methods(["GET", "POST"])
@family_required
def absence(request, enrollment_id: int):
    family = request.guardian.family
    enrollment = _active_enrollment(family, enrollment_id)
    if enrollment is None:
        return _not_found(request, "enrollment", _("We could not find that enrollment."))
    context = {
        "nav": "requests",
        "enrollment": enrollment,
        "dates": next_meetings(enrollment, MEETING_CHOICES),
        "values": {},
    }
    if request.method == "POST":
        try:
            data = api_validate(
                RequestInput,
                {
                    "type": "absence",
                    "enrollment": enrollment.pk,
                    "meeting_date": request.POST.get("meeting_date", ""),
                    "reason": request.POST.get("reason", ""),
                },
            )
            req = services.absence_request(
                family=family,
                enrollment_id=enrollment.pk,
                meeting_date=data["meeting_date"],
                reason=data["reason"],
            )
        except ApplicationError as exc:
            return _form_failed(request, "portal_web/request_absence.html", context, exc)
        if req.status == Request.Status.APPROVED:
            text = _("Absence reported for %(date)s.") % {"date": req.meeting_date}
            if req.issued_token_id:
                text += " " + _("A makeup token was added to your account.")
        else:
            text = _("Absence reported for %(date)s; the business will review it.") % {
                "date": req.meeting_date
            }
        messages.success(request, text)
        return _back(request)
    return render(request, "portal_web/request_absence.html", context)


@require_http_methods(["GET", "POST"])
@family_required
def transfer(request, enrollment_id: int):
    family = request.guardian.family
    portal = portal_settings_get(request)
    enrollment = _active_enrollment(family, enrollment_id)
    if enrollment is None:
        return _not_found(request, "enrollment", _("We could not find that enrollment."))
    context = {
        "nav": "requests",
        "enrollment": enrollment,
        "targets": transfer_targets(enrollment=enrollment, visible_kinds=portal.shown_kinds()),
        "values": request.GET,
        "preview": None,
    }
    template = "portal_web/request_transfer.html"
    if request.method == "POST":
        try:
            data = api_validate(
                RequestInput,
                {
                    "type": "transfer",
                    "enrollment": enrollment.pk,
                    "offering": request.POST.get("offering", ""),
                    "reason": request.POST.get("reason", ""),
                },
            )
            services.transfer_request(
                family=family,
                enrollment_id=enrollment.pk,
                offering_id=data["offering"],
                reason=data["reason"],
            )
        except ApplicationError as exc:
            return _form_failed(request, template, context, exc)
        messages.success(request, _("Your transfer request was sent to the business."))
        return _back(request)
    raw = (request.GET.get("offering") or "").strip()
    if raw:
        try:
            if not raw.isdigit():
                raise ApplicationError(
                    "invalid_input", _("Choose a class."), fields={"offering": [_("Required.")]}
                )
            preview = services.transfer_preview(
                family=family, enrollment_id=enrollment.pk, offering_id=int(raw)
            )
            context.update(preview=preview, refund=max(-preview["difference"], 0))
        except ApplicationError as exc:
            context.update(error=exc, errors=field_errors(exc))
            return render(request, template, context, status=exc.status)
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@family_required
def drop(request, enrollment_id: int):
    family = request.guardian.family
    portal = portal_settings_get(request)
    enrollment = _active_enrollment(family, enrollment_id)
    if enrollment is None:
        return _not_found(request, "enrollment", _("We could not find that enrollment."))
    earliest = timezone.localdate() + timedelta(days=portal.drop_notice_days)
    context = {
        "nav": "requests",
        "enrollment": enrollment,
        "earliest": earliest,
        "values": {"effective_date": earliest.isoformat()},
    }
    template = "portal_web/request_drop.html"
    if request.method == "POST":
        try:
            data = api_validate(
                RequestInput,
                {
                    "type": "drop",
                    "enrollment": enrollment.pk,
                    "effective_date": request.POST.get("effective_date", ""),
                    "reason": request.POST.get("reason", ""),
                },
            )
            services.drop_request(
                family=family,
                enrollment_id=enrollment.pk,
                effective_date=data["effective_date"],
                reason=data["reason"],
            )
        except ApplicationError as exc:
            return _form_failed(request, template, context, exc)
        messages.success(request, _("Your drop request was sent to the business."))
        return _back(request)
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@family_required
def makeup(request, token_id: int):
    family = request.guardian.family
    portal = portal_settings_get(request)
    today = timezone.localdate()
    token = makeup_token_get(family=family, token_id=token_id)
    if token is None:
        return _not_found(request, "makeup_token", _("We could not find that makeup token."))
    targets = makeup_targets(token=token, visible_kinds=portal.shown_kinds())
    chosen = None
    raw = (request.POST.get("offering") or request.GET.get("offering") or "").strip()
    if raw.isdigit():
        chosen = next((o for o in targets if o.pk == int(raw)), None)
    dates = []
    if chosen is not None:
        dates = [d for d in chosen.meetings() if today <= d <= token.expires_on][:MEETING_CHOICES]
    context = {
        "nav": "requests",
        "token": token,
        "targets": targets,
        "chosen": chosen,
        "dates": dates,
        "values": request.GET,
    }
    template = "portal_web/request_makeup.html"
    if request.method == "POST":
        try:
            data = api_validate(
                RequestInput,
                {
                    "type": "makeup",
                    "makeup_token": token.pk,
                    "offering": request.POST.get("offering", ""),
                    "meeting_date": request.POST.get("meeting_date", ""),
                },
            )
            req = services.makeup_request(
                family=family,
                token_id=token.pk,
                offering_id=data["offering"],
                meeting_date=data["meeting_date"],
            )
        except ApplicationError as exc:
            return _form_failed(request, template, context, exc)
        messages.success(
            request,
            _("Makeup booked: %(offering)s on %(date)s.")
            % {"offering": req.target_offering.name, "date": req.meeting_date},
        )
        return _back(request)
    return render(request, template, context)


@require_POST
@family_required
def cancel(request, request_id: int):
    try:
        services.request_cancel(family=request.guardian.family, request_id=request_id)
    except ApplicationError as exc:
        return error_page(request, exc, back_url="/requests/", back_label=_("Back to requests"))
    messages.success(request, _("Your request is cancelled."))
    return _back(request)
