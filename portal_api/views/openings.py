"""Registration openings and their waiting room, for apps (portal.catalog.waiting_room).

A family joins (``POST /openings/{id}/queue``) and gets a ticket; it polls
``GET /openings/{id}/queue`` (every 2 s or so) with the ticket in ``X-Waiting-Room-Ticket`` (no
session, no database) or its bearer token; when admitted the answer carries the signed pass, to
send as ``X-Waiting-Room-Pass`` with the cart add and checkout of the opening's offerings.
Staff with ``portal_catalog.manage_registration_openings`` watch the queue and pause it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.mediatypes import media_type_matches

from kernel.api.authentication import token_accepted
from kernel.api.permissions import staff_permission
from kernel.errors import ApplicationError
from portal.catalog import waiting_room
from portal.catalog.models import RegistrationOpening

from ..permissions import CatalogVisible, IsFamilyMember, token_family_id
from .base import PortalApi

MANAGE = "portal_catalog.manage_registration_openings"


class OpeningOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    opens_at = serializers.DateTimeField(help_text="In the business's time zone.")
    ends_at = serializers.DateTimeField(allow_null=True)
    offerings = serializers.SerializerMethodField()
    admit_per_minute = serializers.IntegerField(
        allow_null=True, help_text="Null: as fast as checkout can take them."
    )
    pass_minutes = serializers.IntegerField()
    paused = serializers.BooleanField()

    def get_offerings(self, opening) -> list[int]:
        return sorted(o.pk for o in opening.offerings.all())


class QueueOutput(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=(
            "not_joined",
            "before_opening",
            "waiting",
            "paused",
            "admitted",
            "expired",
            "closed",
        )
    )
    position = serializers.IntegerField(allow_null=True, help_text="1: you are next.")
    ahead = serializers.IntegerField(allow_null=True)
    estimated_wait_seconds = serializers.IntegerField(allow_null=True)
    seconds_to_open = serializers.IntegerField(allow_null=True)
    pass_token = serializers.CharField(
        allow_blank=True, help_text="When admitted: send it as `X-Waiting-Room-Pass`."
    )
    pass_expires_at = serializers.DateTimeField(allow_null=True)
    ticket = serializers.CharField(
        required=False,
        help_text="Send it as `X-Waiting-Room-Ticket` when polling. A poll's answer carries a "
        "new one when your place moves into or out of the front of the line (or, once, with "
        "your order in the line): poll with that one from then on (the front's polls are "
        "answered ahead of the rest of the line, the others' in the line's order).",
    )
    poll_seconds = serializers.IntegerField(
        help_text="Ask again in this many seconds: every second near the front of the line, "
        "less often further back (up to 20 s), 10 s while every class is full, 30 s once "
        "admitted."
    )
    all_full = serializers.BooleanField(
        help_text="Waiting while every class of this opening is full right now: the family "
        "keeps its place and is let in if a seat opens up (a hold lapses, a payment fails). "
        "Tell it so, and that it may leave the line."
    )


def queue_body(result: waiting_room.QueueStatus, ticket: str = "") -> dict:
    body = {
        "state": result.state,
        "position": result.position,
        "ahead": result.ahead,
        "estimated_wait_seconds": result.estimated_wait_seconds,
        "seconds_to_open": result.seconds_to_open,
        "pass_token": result.pass_token,
        "pass_expires_at": result.pass_expires_at.isoformat() if result.pass_expires_at else None,
        "poll_seconds": result.poll_seconds,
        "all_full": result.all_full,
    }
    if ticket:
        body["ticket"] = ticket
    return body


def _ticket_family(config: waiting_room.OpeningConfig, ticket: str) -> int:
    family_id = waiting_room.family_from_ticket(config, ticket)
    if family_id is None:
        raise ApplicationError(
            "invalid_ticket", _("This waiting-room ticket is not valid here."), status=400
        )
    return family_id


_renderer = JSONRenderer()


def _answer(data: dict | None, status: int = 200) -> HttpResponse:
    """What DRF would send for ``Response(data, status)`` from these views: the same bytes
    (DRF's compact JSON), no content type for an empty body, ``no-store``."""
    content = _renderer.render(data)
    response = HttpResponse(content, status=status, content_type="application/json")
    if not content:
        del response["Content-Type"]
    response["Cache-Control"] = "no-store"
    return response


def _refused(exc: ApplicationError) -> HttpResponse:
    """The API's exception handler's answer for an ``ApplicationError``."""
    response = _answer(exc.as_dict(), exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


def _plain_json_accepted(request: HttpRequest) -> bool:
    """DRF's content negotiation would answer this request in plain JSON: no ``?format=`` and
    an ``Accept`` header (``*/*`` when absent) that JSON satisfies, without media-type
    parameters (DRF would carry those into the content type, ``indent`` into the body). Anything
    else (say, ``Accept: text/html``: 406) is left to the stack."""
    if "format" in request.GET:
        return False
    accept = request.META.get("HTTP_ACCEPT", "*/*")
    if ";" in accept:
        return False
    return any(
        media_type_matches(_renderer.media_type, token.strip()) for token in accept.split(",")
    )


def queue_join_by_token(request: HttpRequest, opening_id: int) -> HttpResponse | None:
    """``POST /api/v1/openings/{id}/queue`` from an app (``Authorization: Bearer``), answered
    before sessions, CSRF, the audit context and DRF (``saas_platform.waiting_room_poll``):
    one statement checks what ``BearerTokenAuthentication`` and ``IsFamilyMember`` would
    (``token_family_id``), the join itself is Redis only. The same body, status and errors as
    ``OpeningQueueApi.post``; None (the whole stack answers, as before) for any request those
    two would not let through."""
    if not _plain_json_accepted(request):
        return None
    family_id = token_family_id(request)
    if family_id is None:
        return None
    try:
        result = waiting_room.queue_join(opening_id=opening_id, family_id=family_id)
        ticket = waiting_room.ticket_for(
            waiting_room.opening_config(opening_id),
            family_id,
            front=result.front,
            order=result.order,
        )
    except ApplicationError as exc:
        return _refused(exc)
    return _answer(queue_body(result, ticket))


def queue_leave_by_ticket(
    request: HttpRequest, opening_id: int, ticket: str
) -> HttpResponse | None:
    """``DELETE /api/v1/openings/{id}/queue`` with ``X-Waiting-Room-Ticket``, answered before
    the stack: the ticket names the family, so leaving needs only the opening's cached settings
    and one Redis pipeline. The same answers as ``OpeningQueueApi.delete`` (204,
    ``opening_not_found``, ``invalid_ticket``). DRF would still authenticate credentials sent
    along: a bearer token is checked here the same way (one statement; None, so the stack
    refuses it, when it would be refused), and a request carrying a session cookie (DRF's
    session authentication, its CSRF check) is left to the stack (None)."""
    if not _plain_json_accepted(request):
        return None
    if request.META.get("HTTP_AUTHORIZATION"):
        if token_accepted(request) is None:
            return None
    elif settings.SESSION_COOKIE_NAME in request.COOKIES:
        return None
    try:
        config = waiting_room.opening_config(opening_id)
        family_id = _ticket_family(config, ticket)
        waiting_room.queue_leave(opening_id=opening_id, family_id=family_id)
    except ApplicationError as exc:
        return _refused(exc)
    return _answer(None, status.HTTP_204_NO_CONTENT)


def queue_poll_by_ticket(opening_id: int, ticket: str) -> HttpResponse:
    """``GET /api/v1/openings/{id}/queue`` with ``X-Waiting-Room-Ticket``, answered before
    sessions, authentication and DRF (``saas_platform.waiting_room_poll``): the ticket names
    the family, so the answer needs only the opening's cached settings and Redis. Same body,
    errors and ``no-store`` as the view below, rendered as the join and leave are (DRF's bytes)."""
    try:
        config = waiting_room.opening_config(opening_id)
        family_id = _ticket_family(config, ticket)
        result = waiting_room.queue_status(opening_id=opening_id, family_id=family_id)
    except ApplicationError as exc:
        return _refused(exc)
    return _answer(
        queue_body(result, waiting_room.ticket_update(config, family_id, ticket, result))
    )


class OpeningListApi(PortalApi):
    permission_classes = [CatalogVisible]

    @extend_schema(operation_id="openings_list", responses=OpeningOutput(many=True))
    def get(self, request):
        now = timezone.now()
        openings = [
            o
            for o in RegistrationOpening.objects.prefetch_related("offerings").order_by("opens_at")
            if o.in_effect(now)
        ]
        return Response(OpeningOutput(openings, many=True).data)


class OpeningQueueApi(PortalApi):
    """POST joins (a signed-in family); GET polls (ticket or signed-in family)."""

    # Every answer is one family's: a place, a ticket, a pass. A poll or leave by ticket alone
    # carries no credentials and the class-level permission is public, so without this the
    # whole stack left them cacheable (the fast path already sends no-store).
    no_store = True

    def get_permissions(self):
        if self.request.method == "POST" or not self.request.headers.get("X-Waiting-Room-Ticket"):
            # GET and DELETE with a ticket need no session: the ticket names the family.
            return [IsFamilyMember()]
        return [permissions.AllowAny()]

    @extend_schema(
        operation_id="opening_queue_join",
        request=None,
        responses={200: QueueOutput},
        description="Join the waiting room (idempotent: every device of the family shares one "
        "place). Before the opening you are in the pre-queue, shuffled at random at the "
        "opening; after it you queue in order. Errors: `opening_not_found` (404), "
        "`opening_closed` (409).",
    )
    def post(self, request, opening_id: int):
        family_id = request.guardian.family_id
        result = waiting_room.queue_join(opening_id=opening_id, family_id=family_id)
        ticket = waiting_room.ticket_for(
            waiting_room.opening_config(opening_id),
            family_id,
            front=result.front,
            order=result.order,
        )
        return Response(queue_body(result, ticket), status=status.HTTP_200_OK)

    @extend_schema(
        operation_id="opening_queue_status",
        responses={200: QueueOutput},
        description="Your place, estimated wait and, once admitted, your pass. Poll every "
        "`poll_seconds`. Errors: `opening_not_found` (404), `invalid_ticket` (400).",
    )
    def get(self, request, opening_id: int):
        ticket = request.headers.get("X-Waiting-Room-Ticket", "")
        config = waiting_room.opening_config(opening_id)
        family_id = _ticket_family(config, ticket) if ticket else request.guardian.family_id
        result = waiting_room.queue_status(opening_id=opening_id, family_id=family_id)
        update = waiting_room.ticket_update(config, family_id, ticket, result) if ticket else ""
        return Response(queue_body(result, update))

    @extend_schema(
        operation_id="opening_queue_leave",
        request=None,
        responses={204: None},
        description="Leave the waiting room: give up your place, or your pass and checkout slot "
        "(say, every class you wanted is full), so the next family comes in at once. You may "
        "join again, at the back. Errors: `opening_not_found` (404), `invalid_ticket` (400).",
    )
    def delete(self, request, opening_id: int):
        ticket = request.headers.get("X-Waiting-Room-Ticket", "")
        config = waiting_room.opening_config(opening_id)
        family_id = _ticket_family(config, ticket) if ticket else request.guardian.family_id
        waiting_room.queue_leave(opening_id=opening_id, family_id=family_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class QueueOverviewOutput(serializers.Serializer):
    opened = serializers.BooleanField()
    pre_queue = serializers.IntegerField()
    waiting = serializers.IntegerField()
    checking_out = serializers.IntegerField()
    admitted = serializers.IntegerField()
    checked_out = serializers.IntegerField()
    admitted_last_minute = serializers.IntegerField()
    paused = serializers.BooleanField()
    all_full = serializers.BooleanField(
        help_text="Every class of the opening is full right now: nobody is let in until a seat "
        "opens up (the families in line are told so)."
    )
    estimated_rate_per_minute = serializers.FloatField()


def _opening(opening_id: int) -> RegistrationOpening:
    opening = RegistrationOpening.objects.filter(pk=opening_id).first()
    if opening is None:
        raise waiting_room.not_found()
    return opening


class StaffOpeningQueueApi(PortalApi):
    permission_classes = [staff_permission(MANAGE)]

    @extend_schema(
        operation_id="staff_opening_queue",
        responses={200: QueueOverviewOutput},
        description="The live queue: pre-queue, waiting, checking out, admitted, the rate. "
        "Needs `portal_catalog.manage_registration_openings`.",
    )
    def get(self, request, opening_id: int):
        return Response(waiting_room.queue_overview(opening=_opening(opening_id)))


class StaffOpeningPauseApi(PortalApi):
    permission_classes = [staff_permission(MANAGE)]

    class Input(serializers.Serializer):
        paused = serializers.BooleanField()

    @extend_schema(
        operation_id="staff_opening_pause",
        request=Input,
        responses={200: QueueOverviewOutput},
        description="Pause (`true`) or resume letting families in; passes given stay valid.",
    )
    def post(self, request, opening_id: int):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        opening = waiting_room.opening_pause(
            opening=_opening(opening_id), paused=data.validated_data["paused"]
        )
        return Response(waiting_room.queue_overview(opening=opening))
