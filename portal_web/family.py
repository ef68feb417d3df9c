"""The family profile: guardians, students, emergency contacts and the policies still to accept.
Input limits mirror the API's serializers; every change goes through portal.accounts.services."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kernel.client_address import client_address
from kernel.errors import ApplicationError
from portal.accounts import services
from portal.accounts.errors import contact_not_found, student_not_found
from portal.accounts.photos import student_photo_remove, student_photo_upload, student_photo_url
from portal.accounts.selectors import (
    emergency_contact_get,
    family_get,
    policies_pending,
    student_get,
)
from portal.accounts.services import PolicyConsent
from portal.catalog.selectors import level_list
from portal.config.selectors import portal_settings_get
from portal.photos import MAX_PHOTO_BYTES

from .helpers import error_page, family_required, field_errors, safe_next


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError("invalid_input", message, fields={field: [message]})


def clean_text(post, limits: dict[str, int], required: tuple[str, ...] = ()) -> dict:
    """Posted text fields, trimmed to nothing and bounded like the API's serializers."""
    out = {}
    for name, limit in limits.items():
        if name not in post and name not in required:
            continue
        value = post.get(name, "")
        if len(value) > limit:
            raise _invalid(
                name, _("Ensure this field has no more than %(n)d characters.") % {"n": limit}
            )
        out[name] = value
    return out


def validation_to_error(exc: ValidationError) -> ApplicationError:
    fields = {
        name: [str(m) for m in msgs]
        for name, msgs in getattr(exc, "message_dict", {"__all__": exc.messages}).items()
    }
    first = next(iter(fields.values()))[0] if fields else _("Check the form.")
    return ApplicationError("invalid_input", first, fields=fields)


def _family_context(request, **extra) -> dict:
    family = family_get(family_id=request.guardian.family_id)
    students = {s.pk: s for s in family.students.all()}
    pending = []
    for item in policies_pending(family):
        key = f"{item.policy.pk}:{item.policy.version}"
        if item.student_id is not None:
            key += f":{item.student_id}"
        pending.append(
            {"policy": item.policy, "student": students.get(item.student_id), "key": key}
        )
    return {
        "nav": "family",
        "fam": family,
        "you": request.guardian,
        "pending": pending,
        "ticked": [],
        **extra,
    }


@family_required
def family_profile(request):
    return render(request, "portal_web/family.html", _family_context(request))


FAMILY_LIMITS = {
    "name": 300,
    "address_line1": 200,
    "address_line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "country": 10,
}


@family_required
def family_edit(request):
    context = _family_context(request)
    fam = context["fam"]
    context["values"] = {name: getattr(fam, name) for name in FAMILY_LIMITS}
    if request.method != "POST":
        return render(request, "portal_web/family_edit.html", context)
    context["values"] = request.POST
    try:
        changes = clean_text(request.POST, FAMILY_LIMITS)
        services.family_update(guardian=request.guardian, **changes)
    except ValidationError as exc:
        exc = validation_to_error(exc)
        context.update(error=exc, errors=field_errors(exc))
        return render(request, "portal_web/family_edit.html", context, status=400)
    except ApplicationError as exc:
        context.update(error=exc, errors=field_errors(exc))
        return render(request, "portal_web/family_edit.html", context, status=exc.status)
    messages.success(request, _("Your family details are saved."))
    return redirect("portal-family")


# Lazy: built at import, read in the language of each request.
GENDERS = [
    ("unspecified", gettext_lazy("Prefer not to say")),
    ("female", gettext_lazy("Female")),
    ("male", gettext_lazy("Male")),
    ("nonbinary", gettext_lazy("Non-binary")),
]


def _student_input(post) -> dict:
    values = clean_text(
        post,
        {"first_name": 200, "last_name": 200, "medical_notes": 5000, "gender": 20},
        required=("first_name", "last_name"),
    )
    raw = (post.get("date_of_birth") or "").strip()
    if not raw:
        raise _invalid("date_of_birth", _("The date of birth is required."))
    try:
        values["date_of_birth"] = date.fromisoformat(raw)
    except ValueError:
        raise _invalid(
            "date_of_birth",
            _("Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
        ) from None
    level = (post.get("level") or "").strip()
    if level:
        if not level.isdigit() or int(level) < 1:
            raise _invalid("level", _("A valid integer is required."))
        values["level"] = int(level)
    elif "level" in post:
        values["level"] = None
    values.setdefault("gender", "unspecified")
    return values


def _student_form(request, context, template_status=200):
    context.update(
        {
            "nav": "family",
            "genders": GENDERS,
            # Levels are chosen here only when the business lets families place students.
            "levels": list(level_list())
            if portal_settings_get(request).families_may_set_levels
            else None,
            "next": safe_next(request, ""),
        }
    )
    return render(request, "portal_web/student_form.html", context, status=template_status)


@family_required
def student_add(request):
    if request.method != "POST":
        return _student_form(request, {"values": {}})
    try:
        student = services.student_create(guardian=request.guardian, **_student_input(request.POST))
    except ValidationError as exc:
        exc = validation_to_error(exc)
        return _student_form(
            request, {"values": request.POST, "error": exc, "errors": field_errors(exc)}, 400
        )
    except ApplicationError as exc:
        return _student_form(
            request,
            {"values": request.POST, "error": exc, "errors": field_errors(exc)},
            exc.status,
        )
    messages.success(request, _("%(name)s is added.") % {"name": student.first_name})
    return redirect(safe_next(request, reverse("portal-family")))


@family_required
def student_edit(request, student_id: int):
    student = student_get(family_id=request.guardian.family_id, student_id=student_id)
    if student is None:
        return error_page(
            request,
            student_not_found(),
            back_url=reverse("portal-family"),
            back_label=_("Back to my family"),
        )
    base = {"student": student, "photo_url": student_photo_url(student)}
    if request.method != "POST":
        values = {
            "first_name": student.first_name,
            "last_name": student.last_name,
            "date_of_birth": student.date_of_birth.isoformat(),
            "gender": student.gender,
            "level": student.level_id or "",
            "medical_notes": student.medical_notes,
        }
        return _student_form(request, {**base, "values": values})
    try:
        services.student_update(
            guardian=request.guardian, student=student, **_student_input(request.POST)
        )
    except ValidationError as exc:
        exc = validation_to_error(exc)
        return _student_form(
            request,
            {**base, "values": request.POST, "error": exc, "errors": field_errors(exc)},
            400,
        )
    except ApplicationError as exc:
        return _student_form(
            request,
            {**base, "values": request.POST, "error": exc, "errors": field_errors(exc)},
            exc.status,
        )
    messages.success(request, _("The student's details are saved."))
    return redirect("portal-family")


@family_required
@require_POST
def student_photo(request, student_id: int):
    """Upload the student's photo (``photo``, multipart) or remove it (``action=remove``); a
    refusal shows the student's page again with the message, nothing stored."""
    family_id = request.guardian.family_id
    try:
        if request.POST.get("action") == "remove":
            student_photo_remove(family_id=family_id, student_id=student_id)
            done = _("The photo is removed.")
        else:
            upload = request.FILES.get("photo")
            if upload is not None and upload.size > MAX_PHOTO_BYTES:
                message = _("Images may be at most 5 MB.")
                raise ApplicationError("image_too_large", message, fields={"photo": [message]})
            student_photo_upload(
                family_id=family_id,
                student_id=student_id,
                name=upload.name if upload else "",
                data=upload.read() if upload else b"",
            )
            done = _("The photo is saved.")
    except ApplicationError as exc:
        student = student_get(family_id=family_id, student_id=student_id)
        if student is None:
            return error_page(
                request, exc, back_url=reverse("portal-family"), back_label=_("Back to my family")
            )
        values = {
            "first_name": student.first_name,
            "last_name": student.last_name,
            "date_of_birth": student.date_of_birth.isoformat(),
            "gender": student.gender,
            "level": student.level_id or "",
            "medical_notes": student.medical_notes,
        }
        context = {
            "student": student,
            "photo_url": student_photo_url(student),
            "values": values,
            "photo_error": exc,
        }
        return _student_form(request, context, exc.status)
    messages.success(request, done)
    return redirect("portal-student-edit", student_id=student_id)


@family_required
def guardian_add(request):
    context = {"nav": "family", "values": {}}
    if not request.guardian.is_primary:
        return error_page(
            request,
            ApplicationError(
                "primary_guardian_only",
                _("Only the primary guardian can change this."),
                status=403,
            ),
            back_url=reverse("portal-family"),
            back_label=_("Back to my family"),
        )
    if request.method != "POST":
        return render(request, "portal_web/guardian_form.html", context)
    context["values"] = request.POST
    try:
        values = clean_text(
            request.POST,
            {"first_name": 200, "last_name": 200, "email": 254, "phone": 30, "relationship": 50},
            required=("first_name", "last_name", "email"),
        )
        services.guardian_add(guardian=request.guardian, **values)
    except ApplicationError as exc:
        context.update(error=exc, errors=field_errors(exc))
        return render(request, "portal_web/guardian_form.html", context, status=exc.status)
    messages.success(
        request, _("The guardian is added; we emailed them a link to choose a password.")
    )
    return redirect("portal-family")


@family_required
def contact_add(request):
    context = {"nav": "family", "values": {}}
    if request.method != "POST":
        return render(request, "portal_web/contact_form.html", context)
    context["values"] = request.POST
    try:
        values = clean_text(
            request.POST,
            {"name": 300, "phone": 60, "relationship": 50},
            required=("name", "phone"),
        )
        services.emergency_contact_create(guardian=request.guardian, **values)
    except ApplicationError as exc:
        context.update(error=exc, errors=field_errors(exc))
        return render(request, "portal_web/contact_form.html", context, status=exc.status)
    messages.success(request, _("The emergency contact is added."))
    return redirect("portal-family")


@family_required
def contact_edit(request, contact_id: int):
    contact = emergency_contact_get(family_id=request.guardian.family_id, contact_id=contact_id)
    if contact is None:
        return error_page(
            request,
            contact_not_found(),
            back_url=reverse("portal-family"),
            back_label=_("Back to my family"),
        )
    context = {
        "nav": "family",
        "contact": contact,
        "values": {
            "name": contact.name,
            "phone": contact.phone,
            "relationship": contact.relationship,
        },
    }
    if request.method != "POST":
        return render(request, "portal_web/contact_form.html", context)
    context["values"] = request.POST
    try:
        values = clean_text(
            request.POST,
            {"name": 300, "phone": 60, "relationship": 50},
            required=("name", "phone"),
        )
        services.emergency_contact_update(
            guardian=request.guardian, contact_id=contact.pk, **values
        )
    except ApplicationError as exc:
        context.update(error=exc, errors=field_errors(exc))
        return render(request, "portal_web/contact_form.html", context, status=exc.status)
    messages.success(request, _("The emergency contact is saved."))
    return redirect("portal-family")


@require_POST
@family_required
def contact_delete(request, contact_id: int):
    contact = emergency_contact_get(family_id=request.guardian.family_id, contact_id=contact_id)
    if contact is None:
        return error_page(
            request,
            contact_not_found(),
            back_url=reverse("portal-family"),
            back_label=_("Back to my family"),
        )
    services.emergency_contact_delete(guardian=request.guardian, contact=contact)
    messages.success(request, _("The emergency contact is removed."))
    return redirect("portal-family")


@require_POST
@family_required
def policies_accept(request):
    """Accept the pending policies ticked on the family page, with the typed signature."""
    post = request.POST
    consents = []
    for key in post.getlist("accept"):
        # "<policy id>:<version>" or "<policy id>:<version>:<student id>"
        parts = key.split(":")
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
            continue
        student_id = int(parts[2]) if len(parts) == 3 else None
        consents.append(
            PolicyConsent(int(parts[0]), int(parts[1]), post.get("signature", ""), student_id)
        )
    try:
        services.policies_accept(
            guardian=request.guardian, consents=consents, ip=client_address(request)
        )
    except ApplicationError as exc:
        context = _family_context(
            request, error=exc, errors=field_errors(exc), values=post, ticked=post.getlist("accept")
        )
        return render(request, "portal_web/family.html", context, status=exc.status)
    messages.success(request, _("Thank you: the policies are accepted."))
    return redirect("portal-family")


@family_required
def family_export(request):
    """Everything the business holds about the family, as a JSON download: the same document
    as ``GET /api/v1/family/export`` (``portal.privacy.services.family_export``, audited)."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder
    from django.http import HttpResponse

    from portal.privacy.services import family_export as export

    if request.method != "GET":
        from django.http import HttpResponseNotAllowed

        return HttpResponseNotAllowed(["GET"])
    data = export(family=request.guardian.family)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="family-export.json"'
    response["Cache-Control"] = "no-store"
    return response


def _account_context(request, **extra) -> dict:
    guardian = request.guardian
    context = {
        "nav": "account",
        "you": guardian,
        "values": {
            "first_name": guardian.first_name,
            "last_name": guardian.last_name,
            "phone": guardian.phone,
        },
    }
    context.update(extra)
    return context


@family_required
def account_settings(request):
    """The signed-in guardian's own account: name and phone, and the password."""
    if request.method != "POST":
        return render(request, "portal_web/account_settings.html", _account_context(request))
    try:
        values = clean_text(
            request.POST,
            {"first_name": 100, "last_name": 100, "phone": 30},
            required=("first_name", "last_name"),
        )
        services.guardian_self_update(guardian=request.guardian, **values)
    except ApplicationError as exc:
        context = _account_context(request, error=exc, errors=field_errors(exc))
        context["values"] = request.POST
        return render(request, "portal_web/account_settings.html", context, status=exc.status)
    messages.success(request, _("Your details are saved."))
    return redirect("portal-account")


@require_POST
@family_required
def password_change(request):
    from django.contrib.auth import update_session_auth_hash

    try:
        new = request.POST.get("new_password", "")
        if len(new) > 128:
            raise _invalid(
                "new_password",
                _("Ensure this field has no more than %(n)d characters.") % {"n": 128},
            )
        user = services.password_change(
            user=request.user,
            current_password=request.POST.get("current_password", "")[:128],
            new_password=new,
        )
    except ApplicationError as exc:
        context = _account_context(request, pw_error=exc, errors=field_errors(exc))
        return render(request, "portal_web/account_settings.html", context, status=exc.status)
    update_session_auth_hash(request, user)  # stay signed in here; other sessions end
    messages.success(request, _("Your password is changed."))
    return redirect("portal-account")


@require_POST
@family_required
def email_change(request):
    """Ask to sign in with another address: the new address gets a confirmation link."""
    from portal.accounts.email_change import email_change_request
    from portal.accounts.inputs import EmailChangeInput

    from .api_input import api_validate

    try:
        values = api_validate(EmailChangeInput, request.POST)
        sent_to = email_change_request(guardian=request.guardian, **values)
    except ApplicationError as exc:
        context = _account_context(request, email_error=exc, errors=field_errors(exc))
        context["new_email"] = request.POST.get("new_email", "")[:254]
        return render(request, "portal_web/account_settings.html", context, status=exc.status)
    messages.success(
        request,
        _(
            "We sent a confirmation link to %(email)s. Your address changes when you open it; "
            "until then, sign in with your current address."
        )
        % {"email": sent_to},
    )
    return redirect("portal-account")


def email_change_confirm(request, token: str):
    """The link emailed to the new address: a page that says which address will be used, and
    a button that confirms it (a GET changes nothing, so a mail scanner opening the link does
    not confirm it). No sign-in needed: the signed link is the proof."""
    from portal.accounts.email_change import email_change_check
    from portal.accounts.email_change import email_change_confirm as confirm

    try:
        if request.method == "POST":
            guardian = confirm(token=token)
            messages.success(
                request,
                _("Your email address is now %(email)s. Sign in with it from now on.")
                % {"email": guardian.email},
            )
            if request.user.is_authenticated:
                return redirect("portal-account")
            return redirect("portal-login")
        if request.method != "GET":
            from django.http import HttpResponseNotAllowed

            return HttpResponseNotAllowed(["GET", "POST"])
        change = email_change_check(token=token)
    except ApplicationError as exc:
        back = "portal-account" if request.user.is_authenticated else "portal-login"
        return error_page(
            request,
            exc,
            back_url=reverse(back),
            back_label=_("Back to your account") if request.user.is_authenticated else _("Sign in"),
        )
    return render(
        request,
        "portal_web/email_confirm.html",
        {"nav": "account", "new_email": change.new_email, "token": token},
    )


@require_POST
@family_required
def guardian_remove(request, guardian_id: int):
    """The primary guardian removes another guardian (after confirming on the family page)."""
    try:
        services.guardian_remove(guardian=request.guardian, guardian_id=guardian_id)
    except ApplicationError as exc:
        return error_page(
            request, exc, back_url=reverse("portal-family"), back_label=_("Back to my family")
        )
    messages.success(request, _("The guardian is removed and can no longer sign in."))
    return redirect("portal-family")
