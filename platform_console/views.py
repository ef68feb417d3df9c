"""The platform console at /console/ on the root host: platform admins onboard businesses,
follow each one's launch checklist, health, usage and plan, launch, suspend, reactivate or
offboard them, and set up their custom domains. Views parse, check that the user is a platform
admin (``@platform_page``), call one service or selector and render; the work is in tenants/
(lifecycle, domains, plans) and portal/tenancy (what a business's schema says)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from kernel.errors import ApplicationError
from portal.billing.money import amount_format
from portal.tenancy import selectors as tenancy_selectors
from portal.tenancy.services import plan_standing_for, tenant_launch_checked
from tenants import domains as domain_services
from tenants import plans, selectors, services
from tenants.models import CURRENCIES, LOCALES, Tenant

from .access import is_platform_admin, platform_page

BACKEND = "django.contrib.auth.backends.ModelBackend"
STATUSES = [choice for choice, _label in Tenant.Status.choices]


def _next(request, default: str = "/console/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/console/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return default


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("password")
def login_view(request):
    context = {"nav": "login", "next": _next(request), "email": ""}
    if request.method == "GET":
        if is_platform_admin(request.user):
            return redirect(_next(request))
        return render(request, "platform_console/login.html", context)
    email = request.POST.get("email", "")[:254]
    context["email"] = email
    try:
        user = services.platform_admin_authenticate(
            email=email, password=request.POST.get("password", "")[:1024], request=request
        )
    except ApplicationError as exc:
        context["error"] = exc
        response = render(request, "platform_console/login.html", context, status=exc.status)
        for name, value in exc.headers.items():  # Retry-After of a sign-in lockout
            response[name] = value
        return response
    login(request, user, backend=BACKEND)
    return redirect(_next(request))


login_view.platform_methods = ("GET", "POST")  # type: ignore[attr-defined]


@require_http_methods(["POST"])
def logout_view(request):
    logout(request)
    messages.success(request, _("You are signed out."))
    return redirect("/console/login/")


logout_view.platform_methods = ("POST",)  # type: ignore[attr-defined]


def _row(tenant: Tenant) -> dict:
    usage = tenancy_selectors.tenant_usage(tenant=tenant)
    return {
        "tenant": tenant,
        "usage": usage,
        "revenue": amount_format(usage.revenue_30d, currency=tenant.currency),
        "subscription": getattr(tenant, "subscription", None),
    }


@platform_page("GET")
def business_list(request):
    status = request.GET.get("status", "")
    q = (request.GET.get("q") or "").strip()[:100]
    if status and status not in STATUSES:
        status = ""
    tenants = selectors.tenant_list_with_plans(status=status or None, q=q or None)
    return render(
        request,
        "platform_console/businesses.html",
        {
            "nav": "businesses",
            "rows": [_row(t) for t in tenants],
            "status": status,
            "q": q,
            "statuses": Tenant.Status.choices,
        },
    )


def _new_form(request, values: dict, error: ApplicationError | None = None, status: int = 200):
    return render(
        request,
        "platform_console/business_new.html",
        {
            "nav": "new",
            "values": values,
            "error": error,
            "field_errors": (error.fields if error else {}) or {},
            "currencies": CURRENCIES,
            "locales": LOCALES,
            "plans": selectors.plan_list_active(),
            "platform_domain": settings.PLATFORM_DOMAIN,
        },
        status=status,
    )


@platform_page("GET", "POST")
def business_new(request):
    defaults = {"timezone": "America/New_York", "currency": "USD", "locale": "en", "plan": ""}
    if request.method == "GET":
        return _new_form(request, defaults)
    fields = ("name", "slug", "owner_email", "timezone", "currency", "locale", "plan")
    values = {f: (request.POST.get(f) or "").strip()[:254] for f in fields}
    try:
        tenant = services.tenant_onboard(
            name=values["name"],
            slug=values["slug"].lower(),
            owner_email=values["owner_email"],
            timezone_name=values["timezone"],
            currency=values["currency"],
            locale=values["locale"] or "en",
            plan=values["plan"] or None,
        )
    except ApplicationError as exc:
        return _new_form(request, values, exc, status=exc.status)
    messages.success(
        request,
        _("%(name)s is being set up; the owner gets an email to choose a password.")
        % {"name": tenant.name},
    )
    return redirect(f"/console/businesses/{tenant.schema_name}/")


def _detail(request, tenant: Tenant, error: ApplicationError | None = None, status: int = 200):
    usage = tenancy_selectors.tenant_usage(tenant=tenant, fresh=request.GET.get("fresh") == "1")
    domains = [
        {"domain": d, "records": domain_services.dns_records(d) if d.is_custom else []}
        for d in domain_services.domain_list(tenant=tenant)
    ]
    return render(
        request,
        "platform_console/business.html",
        {
            "nav": "businesses",
            "tenant": tenant,
            "checklist": tenancy_selectors.launch_checklist(tenant=tenant),
            "usage": usage,
            "revenue": amount_format(usage.revenue_30d, currency=tenant.currency),
            "domains": domains,
            "subscription": getattr(tenant, "subscription", None),
            "plan_view": plan_standing_for(tenant=tenant),
            "plans": selectors.plan_list_active(),
            "error": error,
        },
        status=status,
    )


def _tenant(slug: str) -> Tenant:
    return selectors.tenant_get(slug=slug)


def _answer(request, slug: str, action, success: str):
    """Run one service; on success back to the business's page with ``success``, on a refusal
    the page again with the error and its status (nothing changed)."""
    try:
        tenant = _tenant(slug)
    except ApplicationError as exc:
        return render(
            request, "platform_console/error.html", {"error": exc, "nav": ""}, status=exc.status
        )
    try:
        action(tenant)
    except ApplicationError as exc:
        return _detail(request, _tenant(slug), exc, status=exc.status)
    messages.success(request, success)
    return redirect(f"/console/businesses/{slug}/")


@platform_page("GET")
def business_detail(request, slug: str):
    try:
        tenant = _tenant(slug)
    except ApplicationError as exc:
        return render(
            request, "platform_console/error.html", {"error": exc, "nav": ""}, status=exc.status
        )
    return _detail(request, tenant)


@platform_page("POST")
def business_launch(request, slug: str):
    return _answer(
        request,
        slug,
        lambda t: tenant_launch_checked(slug=t.schema_name),
        _("Launched: the portal is open to families."),
    )


def _status_action(action: str, confirm: str):
    def run(tenant: Tenant) -> None:
        if action == "suspend":
            services.tenant_suspend(slug=tenant.schema_name)
        elif action == "reactivate":
            services.tenant_reactivate(slug=tenant.schema_name)
        elif action == "offboard":
            services.tenant_offboard_request(slug=tenant.schema_name, confirm=confirm)
        else:
            raise ApplicationError(
                "invalid_input",
                _("Choose suspend, reactivate or offboard."),
                fields={"action": [_("Choose suspend, reactivate or offboard.")]},
            )

    return run


@platform_page("POST")
def business_status(request, slug: str):
    action = request.POST.get("action", "")
    done = {
        "suspend": _("Suspended: families and staff see that the portal is unavailable."),
        "reactivate": _("Reactivated."),
        "offboard": _("Offboarding: the data is exported, then the portal is removed."),
    }.get(action, "")
    return _answer(request, slug, _status_action(action, request.POST.get("confirm", "")), done)


@platform_page("POST")
def business_directory(request, slug: str):
    raw = request.POST.get("listed", "")

    def run(tenant: Tenant) -> None:
        if raw not in ("0", "1"):
            raise ApplicationError(
                "invalid_input",
                _("Choose listed or not listed."),
                fields={"listed": [_("Choose listed or not listed.")]},
            )
        services.tenant_directory_set(slug=tenant.schema_name, listed=raw == "1")

    return _answer(request, slug, run, _("Directory listing saved."))


@platform_page("POST")
def domain_add(request, slug: str):
    host = request.POST.get("domain", "")[:300]
    return _answer(
        request,
        slug,
        lambda t: domain_services.domain_add(tenant=t, domain=host),
        _("Domain added: create the DNS records below, then verify."),
    )


@platform_page("POST")
def domain_verify(request, slug: str, domain_id: int):
    return _answer(
        request,
        slug,
        lambda t: domain_services.domain_verify(
            domain=domain_services.domain_get(tenant=t, domain_id=domain_id)
        ),
        _("Verified: the domain now routes to the portal."),
    )


@platform_page("POST")
def domain_remove(request, slug: str, domain_id: int):
    return _answer(
        request,
        slug,
        lambda t: domain_services.domain_remove(
            domain=domain_services.domain_get(tenant=t, domain_id=domain_id)
        ),
        _("Domain removed."),
    )


@platform_page("POST")
def business_plan(request, slug: str):
    code = request.POST.get("plan", "")[:40]
    return _answer(
        request,
        slug,
        lambda t: plans.plan_change(slug=t.schema_name, plan_code=code),
        _("Plan changed."),
    )


@platform_page("POST")
def business_billing(request, slug: str):
    return _answer(
        request,
        slug,
        lambda t: plans.subscription_start(slug=t.schema_name),
        _("Monthly billing started: Stripe emails the owner each invoice."),
    )
