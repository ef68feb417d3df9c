"""Online payments in the console (/console/settings/payments/): the owner connects the
business's Stripe account through Stripe's hosted onboarding (Connect Account Links) and sees
where it stands until Stripe enables charges. Stripe sends the owner back to ``return`` (the
account's state is fetched again then) or, when a link has expired, to ``resume`` (a new link).
Against the local Stripe stand-in (no Connect) the page offers an explicit demo connection.
Owner only (``manage_payments_onboarding``); every write is one ``portal.billing.connect``
call."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.billing import connect

from .access import console_page, methods
from .settings_nav import settings_nav_for

PAGE = "/console/settings/payments/"


def _page(request, *, status: int = 200, error: ApplicationError | None = None):
    return render(
        request,
        "portal_console/payments_onboarding.html",
        {
            "nav": "settings",
            "settings_nav": settings_nav_for(request.user),
            "settings_current": "payments",
            "status": connect.connect_status(tenant=request.tenant),
            "error": error,
        },
        status=status,
    )


def _to_stripe(request):
    tenant = request.tenant
    return connect.connect_onboarding_link(
        tenant=tenant,
        refresh_url=tenant.url(f"{PAGE}resume"),
        return_url=tenant.url(f"{PAGE}return"),
    )


@methods("GET")
@console_page("manage_payments_onboarding")
def payments(request):
    return _page(request)


@methods("POST")
@console_page("manage_payments_onboarding")
def payments_start(request):
    """Create the account (once) and go to Stripe."""
    try:
        url = _to_stripe(request)
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc)
    return redirect(url)


@methods("GET")
@console_page("manage_payments_onboarding")
def payments_resume(request):
    """Stripe's ``refresh_url``: the link expired or was used; a new one, straight to Stripe.
    Only for an account that exists (creating one takes the page's POST)."""
    if not request.tenant.stripe_account_id or request.tenant.stripe_charges_enabled:
        return redirect(PAGE)
    try:
        url = _to_stripe(request)
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc)
    return redirect(url)


@methods("GET")
@console_page("manage_payments_onboarding")
def payments_return(request):
    """Stripe's ``return_url``: the owner left the flow, finished or not; ask Stripe."""
    try:
        tenant = connect.connect_refresh(tenant=request.tenant)
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc)
    if tenant.stripe_charges_enabled:
        messages.success(request, _("Stripe has enabled payments: families can pay online now."))
    elif tenant.stripe_account_id:
        messages.warning(
            request,
            _("Stripe still needs some details before families can pay online."),
        )
    return redirect(PAGE)


@methods("POST")
@console_page("manage_payments_onboarding")
def payments_refresh(request):
    try:
        connect.connect_refresh(tenant=request.tenant)
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc)
    messages.success(request, _("Checked with Stripe just now."))
    return redirect(PAGE)


@methods("POST")
@console_page("manage_payments_onboarding")
def payments_demo(request):
    try:
        connect.connect_demo(tenant=request.tenant)
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc)
    messages.success(
        request,
        _("Demo account connected: payments go to the local Stripe stand-in, no real money."),
    )
    return redirect(PAGE)
