from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from kernel.api.output import Output
from portal.attendance.selectors import family_term_attendance
from portal.catalog.models import WEEKDAY_CODES
from portal.enrollment import camp_days, selectors, services
from portal.orders import payments as order_payments
from portal.orders import selectors as order_selectors
from portal.orders import services as orders

from ..serializers import WeeklyScheduleOutput
from .base import FamilyApi


def admission_pass(request) -> str:
    """The family's waiting-room pass: the app's header, or the web portal's cookie."""
    return request.headers.get("X-Waiting-Room-Pass") or request.COOKIES.get("wr_pass", "")


ADD_ERRORS = (
    "A camp booked by the day or week (`camp_selection` `day` / `week` in the offering's "
    "detail) takes `days`: the `start` of each of its `camp_choices` wanted; it is priced per "
    "day or week and each day's seats are counted on their own. Errors: `camp_days_required`, "
    "`camp_days_not_selectable` (days given for an offering booked whole), "
    "`camp_day_not_in_camp` (`fields.days`), `camp_day_full` (409, `fields.days`), "
    "`offering_full` (409; join the waitlist), `already_enrolled`, `already_in_cart`, "
    "`schedule_clash`, `too_young`, `too_old`, `gender_restricted`, `level_required`, "
    "`level_mismatch`, `registration_not_open`, `registration_closed`, `offering_ended`, "
    "`priority_registration_only` (403), `priority_keyword_required` (403), "
    "`new_families_closed` (403), `new_families_not_yet` (403), `inactive_family` (403), "
    "`past_due_balance` (403), `policy_acceptance_required` (403; `fields.policies` names the "
    "policies to accept first), `student_not_found` / `offering_not_found` (404), `busy` (503), "
    "`waiting_room_pass_required` (403; the offering is in a registration opening: send the pass "
    "from `GET /api/v1/openings/{id}/queue` in `X-Waiting-Room-Pass`; `fields.opening`)."
)


class OfferingRef(Output):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class StudentRef(Output):
    id = serializers.IntegerField()
    first_name = serializers.CharField()


class HoldOutput(Output):
    id = serializers.IntegerField()
    student = StudentRef()
    offering = OfferingRef()
    expires_at = serializers.DateTimeField()
    seconds_left = serializers.SerializerMethodField()
    camp_days = serializers.ListField(
        child=serializers.DateField(),
        help_text="A camp booked by the day or week: the days held. Empty: every meeting.",
    )
    tuition = serializers.SerializerMethodField(
        help_text="Minor units: for the offering (the days or weeks chosen), or per month."
    )
    tuition_billing = serializers.ChoiceField(
        source="offering.tuition_billing",
        choices=["term", "monthly"],
        help_text="`monthly`: the first month is in this cart's total, then autopay charges the "
        "saved card on the portal's `billing_day` each month (show it before checkout).",
    )

    def get_seconds_left(self, hold) -> int:
        return hold.seconds_left()

    def get_tuition(self, hold) -> int:
        return camp_days.tuition_for(hold.offering, hold.camp_days)


class LineOutput(Output):
    kind = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.IntegerField(help_text="Minor units; discounts are negative.")


class CartOutput(serializers.Serializer):
    items = HoldOutput(many=True)
    lines = LineOutput(many=True)
    subtotal = serializers.IntegerField()
    discount_total = serializers.IntegerField()
    total = serializers.IntegerField()
    currency = serializers.CharField()
    hold_timer_minutes = serializers.IntegerField()


class TenderOutput(Output):
    kind = serializers.ChoiceField(choices=["account_credit", "gift_certificate"])
    description = serializers.CharField()
    amount = serializers.IntegerField(help_text="Minor units paid by this tender.")
    status = serializers.ChoiceField(
        choices=["reserved", "used"], help_text="Reserved until the order is paid."
    )


class OrderOutput(Output):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=["registration", "store", "tuition", "adjustment", "balance"]
    )
    status = serializers.CharField()
    currency = serializers.CharField()
    subtotal = serializers.IntegerField(help_text="Minor units: the positive lines.")
    discount_total = serializers.IntegerField(help_text="Minor units: the discount lines (<= 0).")
    total = serializers.IntegerField(help_text="Minor units: the sum of the lines.")
    tenders = TenderOutput(
        many=True,
        source="live_tenders",
        help_text="Account credit and gift certificates paying part of the total.",
    )
    amount_due = serializers.SerializerMethodField(
        help_text="Minor units still to pay by card: total minus tenders."
    )
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Unpaid, it lapses then; null for invoices, which do not lapse."
    )
    confirmed_at = serializers.DateTimeField(allow_null=True)
    lines = LineOutput(many=True, source="lines.all")
    enrollment_ids = serializers.SerializerMethodField()

    def get_amount_due(self, order) -> int:
        return order_selectors.amount_due(order)

    def get_enrollment_ids(self, order) -> list[int]:
        return [e.pk for e in order.enrollments.all()]


def _cart_response(view, request, status_code=200):
    family = request.guardian.family
    services.cart_refresh(family=family)
    holds = list(selectors.cart_holds(family))
    preview = selectors.cart_preview(family, holds, view.portal)
    body = {
        "items": HoldOutput(holds, many=True).data,
        "lines": LineOutput(preview["lines"], many=True).data,
        "subtotal": preview["subtotal"],
        "discount_total": preview["discount_total"],
        "total": preview["total"],
        "currency": view.tenant.currency,
        "hold_timer_minutes": view.portal.hold_timer_minutes,
    }
    return Response(body, status=status_code)


class CartApi(FamilyApi):
    @extend_schema(
        operation_id="cart_retrieve",
        responses=CartOutput,
        description="Held seats with their remaining time, and server-side prices.",
    )
    def get(self, request):
        return _cart_response(self, request)

    @extend_schema(
        operation_id="cart_clear",
        responses={204: None},
        description="Abandon the cart: every held seat is released.",
    )
    def delete(self, request):
        services.cart_clear(family=request.guardian.family)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemListApi(FamilyApi):
    class Input(serializers.Serializer):
        offering = serializers.IntegerField(min_value=1)
        student = serializers.IntegerField(min_value=1)
        keyword = serializers.CharField(
            max_length=100,
            required=False,
            allow_blank=True,
            default="",
            help_text="Priority-registration keyword, if you have one.",
        )
        days = serializers.ListField(
            child=serializers.DateField(),
            required=False,
            default=list,
            max_length=400,
            help_text="A camp booked by the day or week: the `start` of each day or week "
            "chosen from the offering's `camp_choices`. Leave out for anything else.",
        )

    @extend_schema(
        operation_id="cart_items_create",
        request=Input,
        responses={201: CartOutput},
        description="Hold a seat for one of your students. " + ADD_ERRORS,
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        services.cart_add(
            family=request.guardian.family,
            student_id=v["student"],
            offering_id=v["offering"],
            keyword=v["keyword"],
            admission_pass=admission_pass(request),
            days=v["days"],
        )
        return _cart_response(self, request, status.HTTP_201_CREATED)


class CartItemDetailApi(FamilyApi):
    @extend_schema(operation_id="cart_items_delete", responses={204: None})
    def delete(self, request, hold_id: int):
        services.cart_remove(family=request.guardian.family, hold_id=hold_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CheckoutApi(FamilyApi):
    class Input(serializers.Serializer):
        idempotency_key = serializers.CharField(
            max_length=100,
            required=False,
            allow_blank=True,
            help_text="Optional; the same key (or the same cart) always yields the same order.",
        )
        gift_certificate_code = serializers.CharField(
            max_length=40,
            required=False,
            allow_blank=True,
            default="",
            help_text="Pay with a gift certificate, in part or in full.",
        )
        use_account_credit = serializers.BooleanField(
            required=False,
            default=True,
            help_text="Pay what account credit covers (after the gift certificate).",
        )

    @extend_schema(
        operation_id="checkout",
        request=Input,
        responses={201: OrderOutput},
        description="Turn the cart into an order priced on the server; a gift certificate and "
        "then account credit pay what they cover (`tenders`). Nothing left to pay (`amount_due` "
        "0) confirms at once; otherwise pay the order (its seats stay reserved until "
        "`expires_at`). Every rule is checked again. Errors: `cart_empty`, `hold_expired` (409), "
        "`payment_method_required` (409: monthly tuition needs a saved card), "
        "`gift_certificate_invalid` (400), `gift_certificate_empty` (409), and the cart errors.",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        key = request.headers.get("Idempotency-Key") or v.get("idempotency_key")
        order = orders.checkout(
            family=request.guardian.family,
            idempotency_key=key or None,
            gift_certificate_code=v["gift_certificate_code"],
            use_account_credit=v["use_account_credit"],
            admission_pass=admission_pass(request),
        )
        if not order_selectors.order_in_hand(order):  # an earlier order, or one with tenders
            order = order_selectors.order_get(request.guardian.family, order.pk)
        return Response(OrderOutput(order).data, status=status.HTTP_201_CREATED)


class OrderListApi(FamilyApi):
    @extend_schema(operation_id="orders_list", responses=OrderOutput(many=True))
    def get(self, request):
        family = request.guardian.family
        orders.orders_refresh(family=family)
        return Response(OrderOutput(order_selectors.order_list(family), many=True).data)


class OrderDetailApi(FamilyApi):
    @extend_schema(operation_id="orders_retrieve", responses=OrderOutput)
    def get(self, request, order_id: int):
        family = request.guardian.family
        order = order_selectors.order_get(family, order_id)
        if order is None:
            raise orders.order_not_found()
        if order.status == "awaiting_payment":
            order_payments.order_refresh(order=order)
            order = order_selectors.order_get(family, order_id)
        return Response(OrderOutput(order).data)


class PastMeetingOutput(serializers.Serializer):
    date = serializers.DateField(source="day")
    attendance = serializers.ChoiceField(
        choices=["present", "late", "absent", "excused", ""],
        help_text="The mark staff took: present, late, absent, excused; empty when not marked.",
    )


class EnrollmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    student = StudentRef()
    offering = OfferingRef()
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    camp_days = serializers.ListField(
        child=serializers.DateField(),
        help_text="A camp booked by the day or week: the days the student comes. Empty: every "
        "meeting.",
    )
    schedule = serializers.SerializerMethodField()
    location = serializers.SerializerMethodField()
    instructors = serializers.SerializerMethodField()
    next_meetings = serializers.SerializerMethodField()
    past_meetings = serializers.SerializerMethodField(
        help_text="The current term's meetings so far (today's once marked), oldest first, "
        "each with its attendance mark; empty for a class that has ended or not started."
    )

    @extend_schema_field(WeeklyScheduleOutput)
    def get_schedule(self, e) -> dict:
        return {
            "days": [WEEKDAY_CODES[d] for d in e.offering.weekdays],
            "start_time": e.offering.start_time.strftime("%H:%M"),
            "end_time": e.offering.end_time.strftime("%H:%M"),
        }

    def get_location(self, e) -> str | None:
        return e.offering.location.name if e.offering.location else None

    def get_instructors(self, e) -> list[str]:
        return [i.display_name for i in e.offering.instructors.all()]

    def get_next_meetings(self, e) -> list[str]:
        if e.status not in ("active", "pending", "reserved"):
            return []
        return [d.isoformat() for d in selectors.next_meetings(e)]

    @extend_schema_field(PastMeetingOutput(many=True))
    def get_past_meetings(self, e) -> list[dict]:
        term = self.context.get("term", {}).get(e.pk)
        return list(PastMeetingOutput(term.meetings, many=True).data) if term else []


class EnrollmentListApi(FamilyApi):
    @extend_schema(
        operation_id="enrollments_list",
        responses=EnrollmentOutput(many=True),
        description="Each student's enrollments with their next meetings, location and "
        "instructors, and the current term's meetings so far with the attendance staff took "
        "(`past_meetings`).",
    )
    def get(self, request):
        family = request.guardian.family
        services.cart_refresh(family=family)
        term = family_term_attendance(family=family, today=timezone.localdate())
        enrollments = selectors.enrollment_list(family)
        return Response(EnrollmentOutput(enrollments, many=True, context={"term": term}).data)


class WaitlistOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    student = StudentRef()
    offering = OfferingRef()
    position = serializers.SerializerMethodField()
    offer_expires_at = serializers.SerializerMethodField()

    def get_position(self, entry) -> int | None:
        return services.waitlist_position(entry)

    def get_offer_expires_at(self, entry) -> str | None:
        if entry.status == "offered" and entry.hold is not None:
            return timezone.localtime(entry.hold.expires_at).isoformat()
        return None


class WaitlistListApi(FamilyApi):
    class Input(serializers.Serializer):
        offering = serializers.IntegerField(min_value=1)
        student = serializers.IntegerField(min_value=1)
        keyword = serializers.CharField(
            max_length=100, required=False, allow_blank=True, default=""
        )

    @extend_schema(operation_id="waitlist_list", responses=WaitlistOutput(many=True))
    def get(self, request):
        family = request.guardian.family
        services.cart_refresh(family=family)
        return Response(WaitlistOutput(selectors.waitlist_list(family), many=True).data)

    @extend_schema(
        operation_id="waitlist_join",
        request=Input,
        responses={201: WaitlistOutput},
        description="Join a full offering's waitlist. Errors: `offering_has_openings` "
        "(409; add it to the cart), `already_waitlisted`, and the eligibility errors.",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        entry = services.waitlist_join(
            family=request.guardian.family,
            student_id=v["student"],
            offering_id=v["offering"],
            keyword=v["keyword"],
        )
        return Response(WaitlistOutput(entry).data, status=status.HTTP_201_CREATED)


class WaitlistDetailApi(FamilyApi):
    @extend_schema(
        operation_id="waitlist_leave",
        responses={204: None},
        description="Leave the list, or decline an offered seat (it goes to the next family).",
    )
    def delete(self, request, entry_id: int):
        services.waitlist_decline(family=request.guardian.family, entry_id=entry_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WaitlistAcceptApi(FamilyApi):
    @extend_schema(
        operation_id="waitlist_accept",
        request=None,
        responses={201: CartOutput},
        description="Take an offered seat: it moves into your cart. Errors: "
        "`offer_expired`, `no_offer` (409).",
    )
    def post(self, request, entry_id: int):
        services.waitlist_accept(family=request.guardian.family, entry_id=entry_id)
        return _cart_response(self, request, status.HTTP_201_CREATED)
