"""A registration opening's status polls, answered before sessions, authentication and DRF.

In an opening thousands of families poll their place in line (docs/rush.md). A poll that
carries its signed ticket (the app's ``X-Waiting-Room-Ticket`` header on
``GET /api/v1/openings/{id}/queue``, the web page's ``wr_ticket_<id>`` cookie on
``GET /waiting-room/{id}/status.json``) names its family by itself, so it needs no session,
user, CSRF, messages or audit context: only the opening's settings (cached per process) and one
Redis round trip. This middleware sits right after admission control (which still measures the
queueing delay and counts the poll in the tenant's share) and hands such a poll to the
delivery's own handler, skipping the rest of the stack. Everything else passes through, and so
does a poll of a portal that is switched off or not launched yet: the ordinary stack gives those
their usual answers.
"""

from __future__ import annotations

import re

from django.utils import translation

from portal.config.selectors import portal_settings_get
from portal_api.views.openings import queue_poll_by_ticket
from portal_web import waiting_room as web_waiting_room

API_POLL = re.compile(r"^/api/v1/openings/(\d{1,9})/queue$")
WEB_POLL = re.compile(r"^/waiting-room/(\d{1,9})/status\.json$")
TICKET_HEADER = "HTTP_X_WAITING_ROOM_TICKET"


class WaitingRoomPollMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "GET":
            return self.get_response(request)
        path = request.path_info
        api = API_POLL.match(path)
        web = None if api else WEB_POLL.match(path)
        if api is None and web is None:
            return self.get_response(request)
        tenant = getattr(request, "tenant", None)
        if (
            tenant is None
            or getattr(tenant, "schema_name", "public") == "public"
            or getattr(tenant, "launched_at", None) is None
        ):
            return self.get_response(request)
        if api is not None:
            ticket = request.META.get(TICKET_HEADER, "")
            if not ticket or not self._open(request):
                return self.get_response(request)
            with translation.override(translation.get_language_from_request(request)):
                return queue_poll_by_ticket(int(api[1]), ticket)
        opening_id = int(web[1])
        if not request.COOKIES.get(web_waiting_room.TICKET_COOKIE % opening_id):
            return self.get_response(request)
        if not self._open(request):
            return self.get_response(request)
        language = translation.get_language_from_request(request)
        with translation.override(language):
            response = web_waiting_room.opening_status(request, opening_id)
        response["Content-Language"] = language
        response["X-Frame-Options"] = "DENY"
        return response

    @staticmethod
    def _open(request) -> bool:
        return bool(portal_settings_get(request).portal_enabled)
