"""Shared plumbing of the family portal pages: who is signed in, how a service's
ApplicationError becomes a page (field errors on the form, or a clear message with a way back),
and the branded state pages (sign-in needed, suspended family, not a family account).

Pages call the same services and selectors as the API; nothing here decides a business rule."""

from __future__ import annotations

import functools
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.db import connection
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel.errors import ApplicationError
from portal.accounts.errors import family_suspended_error
from portal.accounts.models import Family
from portal.accounts.selectors import guardian_for_user


def safe_next(request, default: str = "/") -> str:
    """The ``next`` parameter when it points to this host, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def login_redirect(request):
    """To the sign-in page, back here afterwards. A visitor whose session cookie no longer
    matches a session (it expired, or they signed out elsewhere) is told so."""
    from django.conf import settings

    if request.COOKIES.get(settings.SESSION_COOKIE_NAME):
        messages.info(request, _("Your session has expired. Please sign in again."))
    else:
        messages.info(request, _("Please sign in to continue."))
    if request.method == "GET":
        target = request.get_full_path()
    else:
        # A form posted after the session ended: come back to the page that had the form.
        target = _same_host_path(request, request.META.get("HTTP_REFERER", "")) or "/"
    return redirect(f"{reverse('portal-login')}?{urlencode({'next': target})}")


def _same_host_path(request, url: str) -> str:
    parts = urlsplit(url)
    if parts.netloc != request.get_host() or parts.scheme not in ("http", "https"):
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


# Refusals a family can fix itself: the page offers the way forward first.
WAYS_FORWARD = {
    "policy_acceptance_required": (
        "portal-policies",
        gettext_lazy("Review and accept the policies"),
    ),
    "payment_method_required": ("portal-payment-method-add", gettext_lazy("Save a card")),
    "past_due_balance": ("portal-billing", gettext_lazy("Pay your balance")),
}


def error_page(request, error: ApplicationError, *, back_url: str = "", back_label: str = ""):
    """A clear page for a failure that is not about one form field, with a way forward when
    the family can fix it, and a way back."""
    forward = WAYS_FORWARD.get(error.code)
    return render(
        request,
        "portal_web/error.html",
        {
            "error": error,
            "forward_url": reverse(forward[0]) if forward else "",
            "forward_label": forward[1] if forward else "",
            "back_url": back_url or reverse("portal-home"),
            "back_label": back_label or _("Back to the home page"),
        },
        status=error.status if 400 <= error.status < 600 else 400,
    )


def family_required(view):
    """Signed-in guardian of a family that is not suspended (the API's IsFamilyMember). Sets
    ``request.guardian``."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return login_redirect(request)
        guardian = guardian_for_user(user)
        if guardian is None:
            return error_page(
                request,
                ApplicationError(
                    "not_a_family_account",
                    _("This account does not belong to a family."),
                    status=403,
                ),
            )
        if guardian.family.status == Family.Status.SUSPENDED:
            return suspended_page(request)
        request.guardian = guardian
        return view(request, *args, **kwargs)

    return wrapper


def suspended_page(request):
    error = family_suspended_error(connection.tenant)
    return render(request, "portal_web/suspended.html", {"error": error}, status=403)


def field_errors(error: ApplicationError) -> dict[str, list[str]]:
    """The field messages of an error; a message without a field goes under ``__all__``."""
    fields = dict(error.fields or {})
    if not fields:
        fields["__all__"] = [error.message]
    return fields
