"""Sign up, sign in (a Django session against this business's own user table), sign out and
the password-reset request: the same services as the API's /auth endpoints."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from kernel.api.throttling import SimpleRateThrottle
from kernel.client_address import client_address
from kernel.errors import ApplicationError
from kernel.users import services as user_services
from portal.accounts import services
from portal.accounts.selectors import guardian_for_user, signup_policy_list
from portal.accounts.services import PolicyConsent
from portal.config.selectors import signup_question_list

from .context import portal_context_get
from .helpers import error_page, family_required, field_errors, safe_next

BACKEND = "django.contrib.auth.backends.ModelBackend"


class _AuthThrottle(SimpleRateThrottle):
    """The API's "portal-auth" rate (sign-in, sign-up, reset requests per client address),
    counted separately for the web pages; the cache keys are per tenant."""

    scope = "portal-auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": "portal-web-auth", "ident": self.get_ident(request)}


def throttled(request) -> ApplicationError | None:
    throttle = _AuthThrottle()
    if throttle.allow_request(request, None):
        return None
    wait = int(throttle.wait() or 60)
    return ApplicationError(
        "throttled",
        _("Too many attempts. Please wait %(seconds)d seconds and try again.") % {"seconds": wait},
        status=429,
        headers={"Retry-After": str(wait)},
    )


def _throttled_response(request, template: str, context: dict, error: ApplicationError):
    context.update(error=error, errors={})
    response = render(request, template, context, status=429)
    response["Retry-After"] = error.headers["Retry-After"]
    return response


def _consents_from_post(post, policies) -> list[PolicyConsent]:
    """One consent per ticked policy, with the version the family read and their typed name."""
    out = []
    for policy in policies:
        if post.get(f"policy_{policy.pk}") != "accepted":
            continue
        version = post.get(f"policy_{policy.pk}_version", "")
        out.append(
            PolicyConsent(
                policy.pk,
                int(version) if version.isdigit() else -1,
                post.get("signature", ""),
                None,
            )
        )
    return out


@sensitive_post_parameters("password")
def signup(request):
    portal = portal_context_get(request)["portal"]
    if request.user.is_authenticated:
        return redirect(safe_next(request, reverse("portal-family")))
    policies = signup_policy_list()
    context = {
        "nav": "signup",
        "policies": policies,
        "referral_sources": portal.referral_source_list,
        "signup_questions": list(signup_question_list()),
        "values": request.POST if request.method == "POST" else {},
        "next": safe_next(request, ""),
        "accepted_ids": {
            p.pk for p in policies if request.POST.get(f"policy_{p.pk}") == "accepted"
        },
    }
    if not portal.visitors_may_create_accounts:
        context["closed"] = True
        return render(request, "portal_web/signup.html", context, status=403)
    if request.method != "POST":
        return render(request, "portal_web/signup.html", context)
    busy = throttled(request)
    if busy:
        return _throttled_response(request, "portal_web/signup.html", context, busy)
    post = request.POST
    try:
        _family, user = services.family_signup(
            first_name=post.get("first_name", ""),
            last_name=post.get("last_name", ""),
            email=post.get("email", ""),
            password=post.get("password", ""),
            phone=post.get("phone", ""),
            referral_source=post.get("referral_source", ""),
            consents=_consents_from_post(post, policies),
            ip=client_address(request),
            answers={
                key.removeprefix("question_"): value[:1000]
                for key, value in post.items()
                if key.startswith("question_")
            },
        )
    except ApplicationError as exc:
        context.update(error=exc, errors=field_errors(exc))
        return render(request, "portal_web/signup.html", context, status=exc.status)
    login(request, user, backend=BACKEND)
    messages.success(request, _("Welcome! Your family account is ready. Add your students next."))
    return redirect(safe_next(request, reverse("portal-family")))


@sensitive_post_parameters("password")
def login_view(request):
    context = {"nav": "login", "next": safe_next(request, ""), "values": {}}
    if request.method != "POST":
        return render(request, "portal_web/login.html", context)
    email = request.POST.get("email", "")
    context["values"] = {"email": email}
    busy = throttled(request)
    if busy:
        return _throttled_response(request, "portal_web/login.html", context, busy)
    try:
        user = services.family_authenticate(
            email=email, password=request.POST.get("password", ""), request=request
        )
    except ApplicationError as exc:
        context.update(error=exc, errors=field_errors(exc))
        template = "portal_web/login.html"
        if exc.code == "family_suspended":
            template = "portal_web/suspended.html"
        response = render(request, template, context, status=exc.status)
        for name, value in exc.headers.items():  # Retry-After of a sign-in lockout
            response[name] = value
        return response
    login(request, user, backend=BACKEND)
    default = reverse("portal-family") if guardian_for_user(user) else reverse("portal-home")
    return redirect(safe_next(request, default))


def logout_view(request):
    if request.method == "POST":
        logout(request)
        messages.success(request, _("You are signed out."))
        return redirect("portal-home")
    if not request.user.is_authenticated:
        return redirect("portal-home")
    return render(request, "portal_web/logout.html")


def password_reset(request):
    context = {"nav": "login", "values": {}}
    if request.method != "POST":
        return render(request, "portal_web/password_reset.html", context)
    email = request.POST.get("email", "").strip()
    context["values"] = {"email": email}
    busy = throttled(request)
    if busy:
        return _throttled_response(request, "portal_web/password_reset.html", context, busy)
    if not email or len(email) > 254:
        message = _("Enter the email address you sign in with.")
        exc = ApplicationError("invalid_input", message, fields={"email": [message]})
        context.update(error=exc, errors=field_errors(exc))
        return render(request, "portal_web/password_reset.html", context, status=400)
    services.password_reset_request(email=email)
    context["sent"] = True
    return render(request, "portal_web/password_reset.html", context)


@require_http_methods(["GET", "POST"])
@family_required
def signed_in_devices(request):
    """The apps and devices signed in to this account (bearer tokens), and a way to sign each
    out. A new password signs them all out."""
    if request.method == "POST":
        try:
            token_id = int(request.POST.get("device", ""))
        except ValueError:
            token_id = 0
        try:
            token = user_services.api_token_revoke_for(user=request.user, token_id=token_id)
        except ApplicationError as error:
            return error_page(
                request,
                error,
                back_url=reverse("portal-devices"),
                back_label=_("Back to your devices"),
            )
        messages.success(
            request, _("%(device)s is signed out.") % {"device": token.name or _("The device")}
        )
        return redirect("portal-devices")
    devices = user_services.api_token_list(user=request.user)
    rows = [{"token": t, "expires_at": t.expires_at()} for t in devices]
    return render(
        request,
        "portal_web/devices.html",
        {"devices": rows, "nav": "family"},
    )
