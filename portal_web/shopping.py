"""Cart (with the hold countdown), waitlist, checkout, payment and the family's enrollments and
schedule: portal.enrollment and portal.billing services, exactly as the API calls them."""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kernel.errors import ApplicationError
from portal.attendance.selectors import family_term_attendance
from portal.billing.selectors import has_saved_card, order_payments_succeeded, payment_method_list
from portal.catalog.models import Offering
from portal.enrollment import selectors, services
from portal.enrollment.models import Order, WaitlistEntry
from portal.orders import payments as order_payments
from portal.orders import selectors as order_selectors
from portal.orders import services as orders
from portal.requests.selectors import family_meetings

from .context import portal_context_get
from .helpers import error_page, family_required

LAPSED = {"hold_expired", "order_not_payable"}


def _int_field(request, name: str) -> int:
    raw = (request.POST.get(name) or "").strip()
    if not raw.isdigit() or not 0 < int(raw) < 10**12:
        message = _("A valid integer is required.")
        raise ApplicationError("invalid_input", message, fields={name: [message]})
    return int(raw)


def _back_to_offering(request) -> str:
    raw = (request.POST.get("offering") or "").strip()
    if raw.isdigit():
        return reverse("portal-offering", args=[int(raw)])
    return reverse("portal-classes")


def lapsed_page(request, error: ApplicationError, *, order=None):
    """A seat's hold (or an unpaid order) ran out while the family was checking out: it says
    which classes were let go (the order's, when there is one) and offers to hold again, in
    one click, those that still have seats."""
    family = request.guardian.family
    services.cart_refresh(family=family)
    context = {
        "error": error,
        "order": order,
        "order_lines": list(order.lines.all()) if order is not None else [],
        "lapsed": selectors.lapsed_item_list(family),
    }
    return render(request, "portal_web/hold_lapsed.html", context, status=409)


def _lapsed_item(raw: str) -> tuple[int, int] | None:
    student, _, offering = raw.partition("-")
    if not (student.isdigit() and offering.isdigit()):
        return None
    pair = int(student), int(offering)
    return pair if all(0 < n < 10**12 for n in pair) else None


@require_POST
@family_required
def cart_hold_again(request):
    """Hold these again: every lapsed item the family ticked goes back into the cart if its
    seat is still free; the others are named with the reason."""
    raw = request.POST.getlist("item")[:50]
    items = [item for item in (_lapsed_item(r) for r in raw) if item is not None]
    if not items or len(items) != len(raw):
        return error_page(
            request,
            ApplicationError(
                "invalid_input",
                _("Choose the classes to hold again."),
                fields={"item": [_("Choose the classes to hold again.")]},
            ),
            back_url=reverse("portal-cart"),
            back_label=_("Back to the cart"),
        )
    held, refused = services.cart_hold_again(family=request.guardian.family, items=items)
    if held:
        messages.success(
            request,
            ngettext(
                "%(n)s class is held for you again.",
                "%(n)s classes are held for you again.",
                len(held),
            )
            % {"n": len(held)},
        )
    for _item, exc in refused:
        messages.warning(request, exc.message)
    return redirect("portal-cart")


def _cart_context(request) -> dict:
    family = request.guardian.family
    services.cart_refresh(family=family)
    holds = list(selectors.cart_holds(family))
    portal = portal_context_get(request)["portal"]
    preview = selectors.cart_preview(family, holds, portal)
    now = timezone.now()
    return {
        "nav": "cart",
        "holds": [{"hold": h, "seconds_left": h.seconds_left(now)} for h in holds],
        "preview": preview,
        "currency": connection.tenant.currency,
        "expires_at": min((h.expires_at for h in holds), default=None),
        "seconds_left": min((h.seconds_left(now) for h in holds), default=0),
        "waitlist": list(selectors.waitlist_list(family)),
        "monthly": [
            {"hold": h}
            for h in holds
            if h.offering.tuition_billing == Offering.TuitionBilling.MONTHLY
        ],
        "has_saved_card": has_saved_card(family=family),
        "idempotency_key": uuid.uuid4().hex,
        "lapsed": selectors.lapsed_item_list(family),
    }


@family_required
def cart(request):
    return render(request, "portal_web/cart.html", _cart_context(request))


@require_POST
@family_required
def cart_add(request):
    try:
        services.cart_add(
            family=request.guardian.family,
            student_id=_int_field(request, "student"),
            offering_id=_int_field(request, "offering"),
            keyword=(request.POST.get("keyword") or "")[:100],
            admission_pass=request.COOKIES.get("wr_pass", ""),
            days=request.POST.getlist("days")[:400],
        )
    except ApplicationError as exc:
        if exc.code == "waiting_room_pass_required":
            opening = exc.fields["opening"][0]
            return error_page(
                request,
                exc,
                back_url=reverse("portal-waiting-room", args=[int(opening)]),
                back_label=_("Go to the waiting room"),
            )
        return error_page(
            request, exc, back_url=_back_to_offering(request), back_label=_("Back to the class")
        )
    messages.success(
        request, _("Added to your cart. The seat is held for you while you check out.")
    )
    return redirect("portal-cart")


@require_POST
@family_required
def cart_remove(request, hold_id: int):
    try:
        services.cart_remove(family=request.guardian.family, hold_id=hold_id)
    except ApplicationError as exc:
        return error_page(
            request, exc, back_url=reverse("portal-cart"), back_label=_("Back to the cart")
        )
    messages.success(request, _("Removed from your cart."))
    return redirect("portal-cart")


@require_POST
@family_required
def waitlist_join(request):
    try:
        services.waitlist_join(
            family=request.guardian.family,
            student_id=_int_field(request, "student"),
            offering_id=_int_field(request, "offering"),
            keyword=(request.POST.get("keyword") or "")[:100],
        )
    except ApplicationError as exc:
        return error_page(
            request, exc, back_url=_back_to_offering(request), back_label=_("Back to the class")
        )
    messages.success(request, _("You are on the waitlist. We will email you if a seat opens."))
    return redirect("portal-waitlist")


def _waitlist_rows(family) -> list[dict]:
    now = timezone.now()
    rows = []
    for entry in selectors.waitlist_list(family):
        offered = entry.status == WaitlistEntry.Status.OFFERED and entry.hold is not None
        rows.append(
            {
                "entry": entry,
                "position": services.waitlist_position(entry),
                "offered": offered,
                "offer_expires_at": entry.hold.expires_at if offered else None,
                "seconds_left": entry.hold.seconds_left(now) if offered else 0,
            }
        )
    return rows


@family_required
def waitlist(request):
    """The family's waitlists: its place in each line, any seat offered to it (with the deadline,
    Accept and Decline), and a way to leave. The waitlist-offer email links here."""
    return render(
        request,
        "portal_web/waitlist.html",
        {"nav": "waitlist", "rows": _waitlist_rows(request.guardian.family)},
    )


@require_POST
@family_required
def waitlist_accept(request, entry_id: int):
    """Take the offered seat: it moves into the cart with the normal hold timer."""
    try:
        services.waitlist_accept(family=request.guardian.family, entry_id=entry_id)
    except ApplicationError as exc:
        return error_page(
            request,
            exc,
            back_url=reverse("portal-waitlist"),
            back_label=_("Back to my waitlists"),
        )
    messages.success(request, _("The seat is in your cart. Check out before the timer runs out."))
    return redirect("portal-cart")


@require_POST
@family_required
def waitlist_decline(request, entry_id: int):
    """Decline an offer (the seat goes to the next family) or leave the list."""
    try:
        services.waitlist_decline(family=request.guardian.family, entry_id=entry_id)
    except ApplicationError as exc:
        return error_page(
            request,
            exc,
            back_url=reverse("portal-waitlist"),
            back_label=_("Back to my waitlists"),
        )
    messages.success(request, _("Done: you are no longer on that waitlist."))
    return redirect("portal-waitlist")


@family_required
def checkout(request):
    if request.method != "POST":
        context = _cart_context(request)
        if not context["holds"]:
            messages.info(request, _("Your cart is empty."))
            return redirect("portal-cart")
        return render(request, "portal_web/checkout.html", context)
    key = (request.POST.get("idempotency_key") or "").strip()[:100] or None
    code = (request.POST.get("gift_certificate_code") or "").strip()[:40]
    try:
        order = orders.checkout(
            family=request.guardian.family,
            idempotency_key=key,
            gift_certificate_code=code,
            use_account_credit=request.POST.get("use_account_credit", "1") != "0",
            admission_pass=request.COOKIES.get("wr_pass", ""),
        )
    except ApplicationError as exc:
        if exc.code in LAPSED:
            return lapsed_page(request, exc)
        if "gift_certificate_code" in exc.fields:
            context = _cart_context(request)
            context.update(error=exc, errors=exc.fields, gift_code=code)
            return render(request, "portal_web/checkout.html", context, status=exc.status)
        return error_page(
            request, exc, back_url=reverse("portal-cart"), back_label=_("Back to the cart")
        )
    return redirect("portal-order", order_id=order.pk)


@family_required
def order_detail(request, order_id: int):
    family = request.guardian.family
    order = order_selectors.order_get(family, order_id)
    if order is None:
        return error_page(
            request,
            ApplicationError("order_not_found", _("We could not find that order."), status=404),
            back_url=reverse("portal-enrollments"),
            back_label=_("Back to my enrollments"),
        )
    if order.status == Order.Status.AWAITING_PAYMENT:
        # Stripe unreachable or not configured: show the order as we know it.
        with contextlib.suppress(ApplicationError):
            order_payments.order_refresh(order=order)
        order = order_selectors.order_get(family, order_id)
    context = {
        "nav": "enrollments",
        "order": order,
        "currency": order.currency,
        "amount_due": order_selectors.amount_due(order),
    }
    if order.status == Order.Status.EXPIRED or order.lapsed():
        return lapsed_page(
            request,
            ApplicationError(
                "order_not_payable",
                _(
                    "This order can no longer be paid: its seats were released. Add them to "
                    "your cart again."
                ),
                status=409,
            ),
            order=order,
        )
    if order.status == Order.Status.AWAITING_PAYMENT:
        if order.expires_at is not None:
            context["seconds_left"] = max(
                int((order.expires_at - timezone.now()).total_seconds()), 0
            )
        context["saved_methods"] = list(payment_method_list(family=family))
        # A saved card can always pay, even when a Payment Element attempt was started before
        # (order_pay cancels that attempt first); "Pay with another card" opens the element.
        wants_element = request.GET.get("card") == "new" or not context["saved_methods"]
        if not settings.STRIPE_PUBLISHABLE_KEY:
            context["payment_error"] = _(
                "This business does not take card payments online yet. Please contact them to "
                "pay; your seats stay reserved until the time shown."
            )
            context["saved_methods"] = []
        elif wants_element:
            try:
                payment = order_payments.order_pay(family=family, order_id=order.pk)
            except ApplicationError as exc:
                if exc.code in LAPSED:
                    return lapsed_page(request, exc)
                context["payment_error"] = exc.message
            else:
                context.update(
                    payment=payment,
                    stripe_publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
                    stripe_js_url=settings.STRIPE_JS_URL,
                    stripe_account=connection.tenant.stripe_account_id,
                    return_url=request.build_absolute_uri(reverse("portal-order", args=[order.pk])),
                )
    return render(request, "portal_web/order.html", context)


@family_required
def order_receipt(request, order_id: int):
    """The receipt of a paid order: what was bought, and how it was paid (tenders, cards)."""
    family = request.guardian.family
    order = order_selectors.order_get(family, order_id)
    if order is None or order.status != Order.Status.CONFIRMED:
        return error_page(
            request,
            ApplicationError(
                "receipt_not_found",
                _("There is no receipt for that order: it is not paid."),
                status=404,
            ),
            back_url=reverse("portal-billing"),
            back_label=_("Back to billing"),
        )
    return render(
        request,
        "portal_web/receipt.html",
        {
            "nav": "billing",
            "order": order,
            "currency": order.currency,
            "payments": order_payments_succeeded(order=order),
        },
    )


@require_POST
@family_required
def order_pay_saved(request, order_id: int):
    """Pay an order at once with one of the family's saved cards (no JavaScript needed)."""
    family = request.guardian.family
    back = reverse("portal-order", args=[order_id])
    try:
        payment = order_payments.order_pay(
            family=family, order_id=order_id, saved_method_id=_int_field(request, "payment_method")
        )
    except ApplicationError as exc:
        if exc.code in LAPSED:
            return lapsed_page(request, exc)
        return error_page(request, exc, back_url=back, back_label=_("Back to the order"))
    if payment.status == "succeeded":
        messages.success(request, _("Thank you: the payment went through."))
    else:
        messages.info(request, _("The payment is being processed."))
    return redirect(back)


@family_required
def enrollments(request):
    family = request.guardian.family
    services.cart_refresh(family=family)
    orders.orders_refresh(family=family)
    rows = [
        {"enrollment": e, "next_meetings": selectors.next_meetings(e)}
        for e in selectors.enrollment_list(family)
    ]
    return render(
        request,
        "portal_web/enrollments.html",
        {
            "nav": "enrollments",
            "rows": rows,
            "waitlist": list(selectors.waitlist_list(family)),
            "orders": order_selectors.orders_awaiting_payment(family),
        },
    )


@family_required
def schedule(request):
    """The next four weeks of the family's meetings, by day, with reported absences and
    approved makeups applied (the same meetings as the calendar feed), then this term's
    meetings so far with their attendance marks."""
    family = request.guardian.family
    today = timezone.localdate()
    days = defaultdict(list)
    for meeting in family_meetings(family=family, start=today, end=today + timedelta(days=28)):
        days[meeting.day].append(meeting)
    agenda = [{"day": day, "items": items} for day, items in sorted(days.items())]
    # This term's classes so far, each with the attendance staff took (or not yet).
    term = [t for t in family_term_attendance(family=family, today=today).values() if t.meetings]
    return render(
        request,
        "portal_web/schedule.html",
        {"nav": "enrollments", "agenda": agenda, "term": term},
    )
