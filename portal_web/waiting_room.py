"""The waiting room pages: the page shed visitors get while the server is over its latency
target (``busy_page``, wired as ``settings.ADMISSION_WEB_RESPONSE``) and the registration
opening's queue (``opening_page``, ``opening_status``)."""

from __future__ import annotations

import math

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from kernel.errors import ApplicationError
from portal.catalog import waiting_room
from portal.catalog.selectors import opening_offerings

from .context import portal_context_get
from .helpers import error_page, family_required


def busy_page(request, seconds: int):
    """Called by saas_platform.admission before sessions and locale run: picks the visitor's
    language itself. Branded (the portal's theme and logo), tries again on its own."""
    language = translation.get_language_from_request(request)
    with translation.override(language):
        response = render(
            request,
            "portal_web/waiting_busy.html",
            {"retry_after": seconds, "next": request.get_full_path()},
            status=429,
        )
    response["Content-Language"] = language
    return response


# --- a registration opening's waiting room ---------------------------------------------------

TICKET_COOKIE = "wr_ticket_%d"
PASS_COOKIE = "wr_pass"  # noqa: S105 - a cookie name (read by saas_platform.admission too)


def _wait_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return _("less than a minute")
    minutes = math.ceil(seconds / 60)
    return ngettext("about %(n)d minute", "about %(n)d minutes", minutes) % {"n": minutes}


def _when(value) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else ""


MESSAGES = {
    "not_joined": gettext_lazy("Join the line to register when it opens."),
    "before_opening": gettext_lazy(
        "You are in the line. When registration opens, everyone who joined before then is "
        "put in a random order, so there is no need to hurry or refresh."
    ),
    "waiting": gettext_lazy("You are in the line. Keep this page open: it updates on its own."),
    "paused": gettext_lazy(
        "The business has paused the line for a moment. You keep your place; keep this page open."
    ),
    "admitted": gettext_lazy(
        "It is your turn! Choose your classes and check out before your pass ends."
    ),
    "expired": gettext_lazy("Your pass has ended. You can join the line again."),
    "closed": gettext_lazy("This registration opening has ended."),
}
ALL_FULL_MESSAGE = gettext_lazy(
    "Every class in this registration is full right now. You keep your place: if a seat opens "
    "up, you will be let in. You can also leave the line."
)


def _status_body(result, config) -> dict:
    return {
        "state": result.state,
        "message": str(ALL_FULL_MESSAGE if result.all_full else MESSAGES[result.state]),
        "all_full": result.all_full,
        "position": result.position,
        "ahead": result.ahead,
        "wait_text": (
            _("not until a seat opens up")
            if result.all_full
            else _wait_text(result.estimated_wait_seconds)
        ),
        "seconds_to_open": result.seconds_to_open,
        "opens_at_text": _when(config.opens_at),
        "pass_expires_text": _when(result.pass_expires_at),
        "poll_seconds": result.poll_seconds,
    }


def _with_pass(response, result):
    """An admitted family's pass rides in an HTTP-only cookie until it lapses."""
    if result.state == "admitted" and result.pass_token:
        seconds = max(1, int((result.pass_expires_at - timezone.now()).total_seconds()))
        response.set_cookie(
            PASS_COOKIE,
            result.pass_token,
            max_age=seconds,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    elif result.state in ("expired", "closed"):
        response.delete_cookie(PASS_COOKIE)
    return response


def _family_id(request, config) -> int | None:
    ticket = request.COOKIES.get(TICKET_COOKIE % config.id, "")
    return waiting_room.family_from_ticket(config, ticket) if ticket else None


def opening_page(request, opening_id: int):
    try:
        config = waiting_room.opening_config(opening_id)
    except ApplicationError as exc:
        return error_page(request, exc)
    family_id = _family_id(request, config)
    if family_id is None:
        guardian = portal_context_get(request).get("guardian")
        family_id = guardian.family_id if guardian else None
    result = (
        waiting_room.queue_status(opening_id=opening_id, family_id=family_id)
        if family_id is not None
        else waiting_room.QueueStatus(state="not_joined")
    )
    if result.state == "not_joined" and not config.in_effect(timezone.now()):
        result = waiting_room.QueueStatus(state="closed")
    context = {
        "opening": config,
        "offerings": opening_offerings(opening_id=config.id),
        "status": _status_body(result, config),
        "joined": result.state not in ("not_joined", "closed"),
        "has_ticket": _family_id(request, config) is not None,
        "poll_ms": result.poll_seconds * 1000,
        "nav": "classes",
    }
    return _with_pass(render(request, "portal_web/waiting_room.html", context), result)


@require_POST
@family_required
def opening_join(request, opening_id: int):
    try:
        result = waiting_room.queue_join(
            opening_id=opening_id, family_id=request.guardian.family_id
        )
        config = waiting_room.opening_config(opening_id)
    except ApplicationError as exc:
        return error_page(request, exc)
    response = redirect("portal-waiting-room", opening_id=opening_id)
    ticket = waiting_room.ticket_for(
        config, request.guardian.family_id, front=result.front, order=result.order
    )
    _set_ticket(response, opening_id, ticket)
    return _with_pass(response, result)


def _set_ticket(response, opening_id: int, ticket: str) -> None:
    response.set_cookie(
        TICKET_COOKIE % opening_id,
        ticket,
        max_age=7 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def opening_status(request, opening_id: int):
    """The page's poll (at the answer's ``poll_seconds``): by the ticket cookie, no session,
    no SQL when warm. With the cookie it is answered before sessions and authentication
    (``saas_platform.waiting_room_poll``)."""
    try:
        config = waiting_room.opening_config(opening_id)
    except ApplicationError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    family_id = _family_id(request, config)
    if family_id is None:
        error = ApplicationError(
            "invalid_ticket", _("Join the line on this page first."), status=400
        )
        return JsonResponse(error.as_dict(), status=400)
    result = waiting_room.queue_status(opening_id=opening_id, family_id=family_id)
    response = JsonResponse(_status_body(result, config))
    response["Cache-Control"] = "no-store"
    ticket = request.COOKIES.get(TICKET_COOKIE % config.id, "")
    update = waiting_room.ticket_update(config, family_id, ticket, result)
    if update:  # into or out of the front of the line: its polls' lane (waiting_room.py)
        _set_ticket(response, opening_id, update)
    return _with_pass(response, result)
