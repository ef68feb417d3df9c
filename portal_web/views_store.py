"""Store pages: gift certificates (buy as a family or, when the business allows it, as a
visitor; check a code's balance, which is then used at checkout) and punch passes (buy, use a
visit). Input goes through the store's input schemas (portal.store.inputs, the API's too) and
every rule is portal.store.services'."""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kernel.client_address import client_address
from kernel.errors import ApplicationError
from portal.accounts.selectors import guardian_for_user
from portal.config.selectors import portal_settings_get
from portal.enrollment.models import Order
from portal.enrollment.selectors import students_active
from portal.orders import payments as order_payments
from portal.store import purchases, services
from portal.store.inputs import (
    GiftCertificateListInput,
    PunchPassBuyInput,
    PunchPassRedeemInput,
    VisitorGiftPurchaseInput,
)
from portal.store.selectors import gift_certificates_bought, punch_pass_get, punch_pass_targets

from .api_input import api_validate
from .helpers import error_page, family_required, field_errors, login_redirect, suspended_page
from .views_billing import stripe_ready

MEETING_CHOICES = 16


def _amount(post) -> int | str:
    """The gift amount in minor units: one of the offered amounts, or "other" with an amount
    typed in the currency (12.50). Left as given when it is not a number, so the API's
    serializer reports it."""
    choice = (post.get("amount") or "").strip()
    if choice != "other":
        return choice
    raw = (post.get("custom_amount") or "").strip().replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ApplicationError(
            "invalid_input",
            _("Enter an amount, e.g. 25.00."),
            fields={"custom_amount": [_("Enter an amount, e.g. 25.00.")]},
        ) from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise ApplicationError(
            "invalid_input",
            _("Enter an amount, e.g. 25.00."),
            fields={"custom_amount": [_("Enter an amount, e.g. 25.00.")]},
        )
    return int(value * 100)


def _store_context(request, **extra) -> dict:
    portal = portal_settings_get(request)
    guardian = guardian_for_user(request.user)
    family = guardian.family if guardian else None
    context = {
        "nav": "store",
        "portal": portal,
        "gift_amounts": portal.gift_amount_list,
        "visitor_may_buy": portal.gift_certificates_enabled
        and portal.gift_certificates_visitors_may_buy,
        "products": [],
        "passes": [],
        "certificates": [],
        "students": [],
        "values": {},
        "stripe_ready": stripe_ready(),
    }
    if portal.punch_passes_enabled:
        context["products"] = list(services.punch_pass_product_list())
    if family is not None:
        context["students"] = list(students_active(family))
        context["certificates"] = list(gift_certificates_bought(family=family))
        if portal.punch_passes_enabled:
            context["passes"] = list(services.punch_pass_list(family=family))
    context.update(extra)
    return context


def _store_failed(request, exc: ApplicationError, **extra):
    context = _store_context(request, error=exc, errors=field_errors(exc), **extra)
    context["values"] = request.POST or request.GET
    return render(request, "portal_web/store.html", context, status=exc.status)


@require_GET
def store(request):
    guardian = guardian_for_user(request.user)
    if guardian is not None and guardian.family.status == "suspended":
        return suspended_page(request)
    return render(request, "portal_web/store.html", _store_context(request))


@require_POST
def gift_buy(request):
    """A signed-in family buys through an order (paid on the order page); a visitor, when the
    business allows it, pays at once with the Payment Element."""
    guardian = guardian_for_user(request.user)
    if guardian is None:
        if request.user.is_authenticated:
            return error_page(
                request,
                ApplicationError(
                    "not_a_family_account",
                    _("This account does not belong to a family."),
                    status=403,
                ),
            )
        portal = portal_settings_get(request)
        if not (portal.gift_certificates_enabled and portal.gift_certificates_visitors_may_buy):
            return login_redirect(request)
        return _visitor_gift_buy(request)
    if guardian.family.status == "suspended":
        return suspended_page(request)
    try:
        data = api_validate(
            GiftCertificateListInput,
            {
                "amount": _amount(request.POST),
                "recipient_name": request.POST.get("recipient_name", ""),
                "recipient_email": request.POST.get("recipient_email", ""),
                "message": request.POST.get("message", ""),
            },
        )
        order = purchases.gift_certificate_buy(family=guardian.family, **data)
    except ApplicationError as exc:
        return _store_failed(request, exc)
    return redirect("portal-order", order_id=order.pk)


def _visitor_gift_buy(request):
    try:
        data = api_validate(
            VisitorGiftPurchaseInput,
            {
                "buyer_name": request.POST.get("buyer_name", ""),
                "buyer_email": request.POST.get("buyer_email", ""),
                "amount": _amount(request.POST),
                "recipient_name": request.POST.get("recipient_name", ""),
                "recipient_email": request.POST.get("recipient_email", ""),
                "message": request.POST.get("message", ""),
            },
        )
        if not stripe_ready():
            from portal.billing.gateway import payments_not_configured

            raise payments_not_configured()
        order, payment = purchases.gift_certificate_buy_as_visitor(**data)
    except ApplicationError as exc:
        return _store_failed(request, exc)
    token = services.visitor_token(order)
    status_url = reverse("portal-gift-status") + "?token=" + token
    return render(
        request,
        "portal_web/gift_pay.html",
        {
            "nav": "store",
            "order": order,
            "payment": payment,
            "currency": order.currency,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "stripe_account": connection.tenant.stripe_account_id,
            "return_url": request.build_absolute_uri(status_url),
            "status_url": status_url,
        },
    )


@require_GET
def gift_status(request):
    """Where a visitor lands after paying: whether the certificate is on its way."""
    try:
        order = services.visitor_order(token=request.GET.get("token", ""))
    except ApplicationError as exc:
        return error_page(request, exc, back_url="/store/", back_label=_("Back to the store"))
    if order.status == Order.Status.AWAITING_PAYMENT:
        with contextlib.suppress(ApplicationError):
            order_payments.order_refresh(order=order)
        order.refresh_from_db()
    return render(request, "portal_web/gift_status.html", {"nav": "store", "order": order})


@require_GET
def gift_balance(request):
    """Anyone holding a code may check its balance (a recipient has no account); wrong codes
    are rate-limited per family, or per address for visitors."""
    guardian = guardian_for_user(request.user)
    try:
        services.gift_certificates_enabled_check()
        certificate = services.gift_certificate_lookup(
            family=guardian.family if guardian is not None else None,
            requester=client_address(request),
            code=request.GET.get("gift_certificate_code", "")[:40],
        )
    except ApplicationError as exc:
        return _store_failed(request, exc)
    return render(
        request,
        "portal_web/store.html",
        _store_context(
            request,
            balance={"amount": certificate.balance, "currency": certificate.currency},
            values=request.GET,
        ),
    )


@require_POST
@family_required
def punch_buy(request):
    family = request.guardian.family
    try:
        data = api_validate(
            PunchPassBuyInput,
            {
                "product": request.POST.get("product", ""),
                "student": request.POST.get("student") or None,
            },
        )
        order = purchases.punch_pass_buy(
            family=family, product_id=data["product"], student_id=data.get("student")
        )
    except ApplicationError as exc:
        return _store_failed(request, exc)
    order.refresh_from_db()
    if order.status == Order.Status.CONFIRMED:
        messages.success(request, _("Your punch pass is ready to use."))
        return redirect("portal-store")
    return redirect("portal-order", order_id=order.pk)


@require_http_methods(["GET", "POST"])
@family_required
def punch_redeem(request, pass_id: int):
    family = request.guardian.family
    portal = portal_settings_get(request)
    today = timezone.localdate()
    punch = punch_pass_get(family=family, pass_id=pass_id)
    if punch is None:
        return error_page(
            request,
            ApplicationError(
                "punch_pass_not_found", _("We could not find that punch pass."), status=404
            ),
            back_url="/store/",
            back_label=_("Back to the store"),
        )
    targets = punch_pass_targets(punch=punch, visible_kinds=portal.shown_kinds())
    raw = (request.POST.get("offering") or request.GET.get("offering") or "").strip()
    chosen = next((o for o in targets if raw.isdigit() and o.pk == int(raw)), None)
    dates = []
    if chosen is not None:
        last = punch.expires_on or chosen.end_date
        dates = [d for d in chosen.meetings() if today <= d <= last][:MEETING_CHOICES]
    context = {
        "nav": "store",
        "punch": punch,
        "targets": targets,
        "chosen": chosen,
        "dates": dates,
        "students": [] if punch.student_id else list(students_active(family)),
        "values": request.POST or request.GET,
    }
    template = "portal_web/punch_redeem.html"
    if request.method == "POST":
        try:
            data = api_validate(
                PunchPassRedeemInput,
                {
                    "offering": request.POST.get("offering", ""),
                    "meeting_date": request.POST.get("meeting_date", ""),
                    "student": request.POST.get("student") or None,
                },
            )
            redemption = services.punch_pass_redeem(
                family=family,
                pass_id=punch.pk,
                offering_id=data["offering"],
                meeting_date=data["meeting_date"],
                student_id=data.get("student"),
            )
        except ApplicationError as exc:
            context.update(error=exc, errors=field_errors(exc))
            return render(request, template, context, status=exc.status)
        messages.success(
            request,
            _("%(student)s is booked into %(offering)s on %(date)s.")
            % {
                "student": redemption.student.first_name,
                "offering": redemption.offering.name,
                "date": redemption.meeting_date,
            },
        )
        return redirect("portal-store")
    return render(request, template, context)
