"""Billing pages: the ledger with its running balance, the statement PDF, and saved payment
methods (list, make default, remove, add one with Stripe's Payment Element through a
SetupIntent). Same selectors and services as the API (portal.billing)."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kernel.errors import ApplicationError
from portal.billing import services
from portal.billing.selectors import ledger_get, payment_method_list, statement_range
from portal.billing.statements import statement_pdf
from portal.config.selectors import portal_settings_get
from portal.orders.autopay import autopay_next
from portal.orders.services import balance_order_create

from .helpers import error_page, family_required, field_errors


def stripe_ready() -> bool:
    """Card forms are offered only when the platform and this business are set up for Stripe."""
    from portal.billing.gateway import online_payments_ready

    return online_payments_ready()


def _billing_context(request, **extra) -> dict:
    family = request.guardian.family
    portal = portal_settings_get(request)
    period = request.GET.get("period", "30d")
    if period not in ("30d", "all"):
        period = "30d"
    if portal.stored_payment_method_policy != "off":
        # The check on read: a card whose SetupIntent succeeded without a webhook yet.
        with contextlib.suppress(ApplicationError):
            services.payment_methods_refresh(family=family)
    today = timezone.localdate()
    context = {
        "nav": "billing",
        "ledger": ledger_get(family=family, period=period),
        "period": period,
        "methods": list(payment_method_list(family=family)),
        "methods_enabled": portal.stored_payment_method_policy != "off",
        "methods_required": portal.stored_payment_method_policy == "required",
        "can_manage": request.guardian.is_primary,
        "autopay": autopay_next(family=family),
        "stripe_ready": stripe_ready(),
        "values": {
            "from": (today - timedelta(days=90)).isoformat(),
            "to": today.isoformat(),
        },
    }
    context.update(extra)
    return context


@require_GET
@family_required
def billing(request):
    return render(request, "portal_web/billing.html", _billing_context(request))


@require_GET
@family_required
def statement(request):
    """The statement PDF, or the billing page with the date fields' errors."""
    try:
        start, end = statement_range(request.GET.get("from"), request.GET.get("to"))
    except ApplicationError as exc:
        context = _billing_context(request, error=exc, errors=field_errors(exc))
        context["values"] = {"from": request.GET.get("from", ""), "to": request.GET.get("to", "")}
        return render(request, "portal_web/billing.html", context, status=exc.status)
    pdf = statement_pdf(
        family=request.guardian.family, tenant=connection.tenant, start=start, end=end
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{start}-{end}.pdf"'
    return response


@require_POST
@family_required
def balance_pay(request):
    """Pay the whole open balance: an order for it, paid on its order page (saved card or the
    Payment Element) like any other."""
    try:
        order = balance_order_create(family=request.guardian.family)
    except ApplicationError as exc:
        return error_page(request, exc, back_url="/billing/", back_label=_("Back to billing"))
    return redirect("portal-order", order_id=order.pk)


def _method_action(request, action, done: str):
    try:
        action()
    except ApplicationError as exc:
        return error_page(request, exc, back_url="/billing/", back_label=_("Back to billing"))
    messages.success(request, done)
    return redirect("portal-billing")


@require_POST
@family_required
def method_remove(request, method_id: int):
    return _method_action(
        request,
        lambda: services.payment_method_remove(guardian=request.guardian, method_id=method_id),
        _("The card is removed."),
    )


@require_POST
@family_required
def method_default(request, method_id: int):
    return _method_action(
        request,
        lambda: services.payment_method_set_default(guardian=request.guardian, method_id=method_id),
        _("The card is now your default."),
    )


@family_required
def method_add(request):
    """Stripe's Payment Element in setup mode: card details go to Stripe, never to us; the card
    is recorded when Stripe reports the SetupIntent succeeded (webhook or the check on read)."""
    if not stripe_ready():
        return error_page(
            request,
            ApplicationError(
                "payments_not_configured",
                _("This business does not take online payments yet. Please contact them."),
                status=409,
            ),
            back_url="/billing/",
            back_label=_("Back to billing"),
        )
    try:
        secret = services.payment_method_setup(guardian=request.guardian)
    except ApplicationError as exc:
        return error_page(request, exc, back_url="/billing/", back_label=_("Back to billing"))
    return render(
        request,
        "portal_web/payment_method_add.html",
        {
            "nav": "billing",
            "client_secret": secret,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "stripe_account": connection.tenant.stripe_account_id,
            "return_url": request.build_absolute_uri(reverse("portal-billing")),
        },
    )
