"""The staff console at /console/ on each tenant host: sign-in, the dashboard, pending
enrollments. Views parse, check the named permission (``@console_page``), call one service or
selector and render; the domain work is in portal/ (services and selectors)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from kernel.errors import ApplicationError
from portal.attendance import selectors as attendance_selectors
from portal.enrollment import services as enrollment_services
from portal.staff import selectors
from portal.staff.roles import ROLES
from portal.staff.services import staff_authenticate, staff_invite, staff_role_change
from portal.tenancy.services import plan_standing_get

from .access import console_page, methods

BACKEND = "django.contrib.auth.backends.ModelBackend"


def _next(request, default: str = "/console/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/console/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return default


@methods("GET", "POST")
@sensitive_post_parameters("password")
def login_view(request):
    context = {"nav": "login", "next": _next(request), "email": ""}
    if request.method == "GET":
        if request.user.is_authenticated and request.user.is_staff:
            return redirect(_next(request))
        return render(request, "portal_console/login.html", context)
    email = request.POST.get("email", "")[:254]
    context["email"] = email
    try:
        user = staff_authenticate(
            email=email, password=request.POST.get("password", "")[:1024], request=request
        )
    except ApplicationError as exc:
        context["error"] = exc
        response = render(request, "portal_console/login.html", context, status=exc.status)
        for name, value in exc.headers.items():  # Retry-After of a sign-in lockout
            response[name] = value
        return response
    login(request, user, backend=BACKEND)
    return redirect(_next(request))


@methods("POST")
def logout_view(request):
    logout(request)
    messages.success(request, _("You are signed out."))
    return redirect("/console/login/")


def money(amount: int, currency: str) -> str:
    """Minor units shown in the currency (every currency a business may choose has cents)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100:,}.{abs(amount) % 100:02d} {currency}"


@methods("GET")
@console_page("view_dashboard")
def dashboard(request):
    today = timezone.localdate()
    can = request.user.has_perm
    month = selectors.month_figures(today=today) if can("portal_staff.view_reports") else None
    if month is not None:
        currency = request.tenant.currency
        month["revenue_display"] = money(month["revenue"], currency)
        month["owed_display"] = money(month["owed"], currency)
    classes = selectors.offerings_meeting_on(day=today, user=request.user)
    attendance = attendance_selectors.day_summaries(offerings=classes, day=today)
    for offering in classes:
        offering.attendance_today = attendance[offering.pk]
    return render(
        request,
        "portal_console/dashboard.html",
        {
            "nav": "dashboard",
            "today": today,
            "classes": classes,
            "counts": selectors.dashboard_counts()
            if can("portal_staff.manage_enrollments")
            else None,
            "month": month,
            "fill_rates": selectors.fill_rate_by_program(today=today) if month else [],
        },
    )


def _pending_page(request, status: int = 200):
    return render(
        request,
        "portal_console/enrollments.html",
        {"nav": "enrollments", "pending": list(selectors.enrollments_pending()[:200])},
        status=status,
    )


@methods("GET")
@console_page("manage_enrollments")
def enrollments_pending(request):
    return _pending_page(request)


@methods("POST")
@console_page("manage_enrollments")
def enrollment_decide(request, enrollment_id: int):
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "")[:2000]
    try:
        if decision == "approve":
            enrollment_services.enrollment_approve(enrollment_id=enrollment_id, note=note)
            messages.success(request, _("Enrollment approved; the family is told."))
        elif decision == "deny":
            result = enrollment_services.enrollment_deny(
                enrollment_id=enrollment_id,
                settle_as=request.POST.get("settle_as", "credit"),
                note=note,
            )
            messages.success(
                request,
                {
                    "refund": _("Enrollment denied; the payment is refunded to the card."),
                    "credit": _("Enrollment denied; what was paid is credited to the account."),
                    "none": _("Enrollment denied; nothing had been paid."),
                }[result["returned_as"]],
            )
        else:
            raise ApplicationError(
                "invalid_input",
                _("Choose approve or deny."),
                fields={"decision": [_("Choose approve or deny.")]},
            )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _pending_page(request, status=exc.status)
    return redirect("/console/enrollments/")


def _staff_page(request, status: int = 200, **extra):
    return render(
        request,
        "portal_console/staff.html",
        {
            "nav": "staff",
            "members": selectors.staff_members(),
            "roles": list(ROLES.values()),
            "values": {},
            **extra,
        },
        status=status,
    )


@methods("GET")
@console_page("manage_staff")
def staff(request):
    return _staff_page(request)


@methods("POST")
@console_page("manage_staff")
def staff_invite_view(request):
    values = {
        "email": request.POST.get("email", "")[:254],
        "full_name": request.POST.get("full_name", "")[:150],
        "role": request.POST.get("role", ""),
    }
    try:
        member = staff_invite(**values)
    except ApplicationError as exc:
        return _staff_page(request, status=exc.status, error=exc, values=values)
    messages.success(
        request,
        _("%(email)s is invited; they choose a password from the email.") % {"email": member.email},
    )
    return redirect("/console/staff/")


@methods("POST")
@console_page("manage_staff")
def staff_role_view(request, user_id: int):
    role = request.POST.get("role", "")
    try:
        member = staff_role_change(user_id=user_id, role=role or None, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _staff_page(request, status=exc.status)
    if role:
        messages.success(request, _("%(email)s's role is changed.") % {"email": member.email})
    else:
        messages.success(
            request, _("%(email)s is no longer on the staff.") % {"email": member.email}
        )
    return redirect("/console/staff/")


@methods("GET")
@console_page("manage_payments_onboarding")
def plan(request):
    """The business's platform plan: what it pays, its subscription's status, and where it
    stands against the plan's student limit (a warning in the grace period, then refusal)."""
    return render(
        request,
        "portal_console/plan.html",
        {"nav": "plan", "standing": plan_standing_get(), "tenant": request.tenant},
    )
