"""Family accounts: signup, sign-in, password reset, family details, students, guardians,
emergency contacts and policy acceptance. Every write validates first and changes nothing
when it refuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.login_guard import raise_if_locked
from kernel.users.models import User
from kernel.users.services import api_token_issue
from portal import formats, links
from portal.activity.services import activity_record
from portal.catalog.models import Level
from portal.config.selectors import portal_settings_get

from .errors import (
    INVALID_CREDENTIALS,
    contact_not_found,
    family_suspended_error,
    student_not_found,
)
from .models import (
    EmergencyContact,
    Family,
    Guardian,
    Policy,
    PolicyAcceptance,
    SignupAnswer,
    Student,
)

FAMILY_FIELDS = (
    "name", "address_line1", "address_line2", "city", "region", "postal_code", "country",
)  # fmt: skip
STUDENT_FIELDS = ("first_name", "last_name", "date_of_birth", "gender", "level", "medical_notes")


def _field(field: str, code: str, message: str, status: int = 400) -> ApplicationError:
    return ApplicationError(code, message, status=status, fields={field: [message]})


def _tenant():
    tenant = getattr(connection, "tenant", None)
    return tenant if getattr(tenant, "schema_name", "public") != "public" else None


def _clean_email(email: str, field: str = "email") -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise _field(field, "email_invalid", "Enter a valid email address.") from None
    return email


def password_check(password: str, *, user: User | None = None, field: str = "password") -> None:
    """Django's validators, with stable codes: too common, or too weak for another reason."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        codes = {error.code for error in exc.error_list}
        code = "password_too_common" if "password_too_common" in codes else "password_too_weak"
        raise ApplicationError(code, " ".join(exc.messages), fields={field: exc.messages}) from None


def _name(value: str, field: str, label: str, max_length: int = 100) -> str:
    value = (value or "").strip()
    if not value:
        raise _field(field, f"{field}_required", _("%(label)s is required.") % {"label": _(label)})
    if len(value) > max_length:
        raise _field(
            field,
            f"{field}_too_long",
            _("%(label)s may be at most %(count)s characters.")
            % {"label": _(label), "count": max_length},
        )
    return value


def _email_free(email: str) -> None:
    if User.objects.filter(email__iexact=email).exists():
        raise _field(
            "email",
            "email_taken",
            "An account with this email already exists. Sign in or reset your password.",
            status=409,
        )


@dataclass(frozen=True)
class PolicyConsent:
    policy_id: int
    version: int
    signature: str
    student_id: int | None = None


def _record_consents(
    *, family: Family, guardian: Guardian, consents: list[PolicyConsent], ip: str | None
) -> list[PolicyAcceptance]:
    policies = {p.pk: p for p in Policy.objects.filter(pk__in=[c.policy_id for c in consents])}
    students = {s.pk: s for s in family.students.all()}
    out = []
    for consent in consents:
        policy = policies.get(consent.policy_id)
        if policy is None or not policy.is_active:
            raise _field("policies", "policy_not_found", "That policy does not exist.")
        if consent.version != policy.version:
            raise _field(
                "policies",
                "policy_version_changed",
                _("“%(policy)s” has changed since you read it; please read it again.")
                % {"policy": policy.title},
                status=409,
            )
        signature = (consent.signature or "").strip()
        if not signature:
            raise _field(
                "policies",
                "signature_required",
                _("Type your name to accept “%(policy)s”.") % {"policy": policy.title},
            )
        student = None
        if policy.scope == Policy.Scope.STUDENT:
            student = students.get(consent.student_id or -1)
            if student is None:
                raise _field(
                    "policies",
                    "student_required",
                    _("“%(policy)s” is accepted for each student; name the student.")
                    % {"policy": policy.title},
                )
        acceptance, _created = PolicyAcceptance.objects.update_or_create(
            policy=policy,
            version=policy.version,
            family=family,
            student=student,
            defaults={
                "guardian": guardian,
                "signature": signature[:150],
                "ip_address": ip,
                "accepted_at": timezone.now(),
            },
        )
        out.append(acceptance)
    return out


@transaction.atomic
def family_signup(
    *,
    first_name: str,
    last_name: str,
    email: str,
    password: str,
    phone: str = "",
    referral_source: str = "",
    consents: list[PolicyConsent] | None = None,
    ip: str | None = None,
    answers: dict[str, str] | None = None,
) -> tuple[Family, User]:
    """Create a family with its primary guardian's login. Refused when the business does not
    let visitors create accounts, for a taken email, a weak password, missing consent to the
    signup policies, a missing referral source the business asks for, or a missing or invalid
    answer to one of the business's signup questions (``answers``: question id -> answer)."""
    portal = portal_settings_get()
    if not portal.visitors_may_create_accounts:
        raise ApplicationError(
            "signup_disabled",
            "This business does not take new accounts online. Please contact them to register.",
            status=403,
        )
    first_name = _name(first_name, "first_name", "First name")
    last_name = _name(last_name, "last_name", "Last name")
    email = _clean_email(email)
    _email_free(email)
    probe = User(email=email, full_name=f"{first_name} {last_name}")
    password_check(password, user=probe)
    referral_source = (referral_source or "").strip()
    if portal.referral_source_required:
        if not referral_source:
            raise _field(
                "referral_source", "referral_source_required", "Tell us how you heard about us."
            )
        if referral_source not in portal.referral_source_list:
            raise _field(
                "referral_source",
                "referral_source_invalid",
                _("Choose one of: %(choices)s.")
                % {"choices": formats.listing(portal.referral_source_list)},
            )
    answered = signup_answers_check(answers or {})
    consents = consents or []
    required = Policy.objects.filter(
        is_active=True, required_at_signup=True, scope=Policy.Scope.FAMILY
    )
    given = {c.policy_id for c in consents}
    missing = [p.title for p in required if p.pk not in given]
    if missing:
        raise _field(
            "policies",
            "policies_not_accepted",
            _("Please read and accept: %(policies)s.") % {"policies": formats.listing(missing)},
        )
    try:
        user = User.objects.create_user(
            email=email, password=password, full_name=f"{first_name} {last_name}"
        )
    except (IntegrityError, ValidationError):
        raise _field(
            "email", "email_taken", "An account with this email already exists.", 409
        ) from None
    family = Family.objects.create(name=f"{last_name} family", referral_source=referral_source)
    guardian = Guardian.objects.create(
        family=family,
        user=user,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=(phone or "").strip()[:30],
        is_primary=True,
    )
    _record_consents(family=family, guardian=guardian, consents=consents, ip=ip)
    SignupAnswer.objects.bulk_create(
        SignupAnswer(family=family, question=q, question_label=q.label, value=value)
        for q, value in answered
    )
    return family, user


def signup_answers_check(answers: dict) -> list:
    """[(question, answer)] for the business's active signup questions, from ``answers``
    (question id, as text or number -> answer). Refuses a required question left empty
    (``signup_answer_required``) and an answer that is not one of a question's choices or is too
    long (``signup_answer_invalid``); both name the field ``question_<id>``."""
    from portal.config.models import SignupQuestion

    if not isinstance(answers, dict):
        raise _field("answers", "signup_answer_invalid", "Send the answers as an object.")
    given = {str(key): value for key, value in answers.items()}
    out = []
    for question in SignupQuestion.objects.filter(is_active=True):
        field = f"question_{question.pk}"
        raw = given.get(str(question.pk), "")
        value = (raw if isinstance(raw, str) else "").strip()
        if raw not in ("", None) and not isinstance(raw, str):
            raise _field(
                field,
                "signup_answer_invalid",
                _("Answer “%(question)s” in words.") % {"question": question.label},
            )
        if not value:
            if question.required:
                raise _field(
                    field,
                    "signup_answer_required",
                    _("Please answer: %(question)s") % {"question": question.label},
                )
            continue
        if len(value) > 1000:
            raise _field(field, "signup_answer_invalid", "Keep the answer under 1,000 characters.")
        if question.kind == SignupQuestion.Kind.CHOICE and value not in question.choice_list:
            raise _field(
                field,
                "signup_answer_invalid",
                _("Choose one of: %(choices)s.")
                % {"choices": formats.listing(question.choice_list)},
            )
        if question.kind == SignupQuestion.Kind.YES_NO and value not in ("yes", "no"):
            raise _field(field, "signup_answer_invalid", "Answer yes or no.")
        out.append((question, value))
    return out


def family_authenticate(*, email: str, password: str, request=None) -> User:
    """Check a family's (or staff member's) credentials for this business."""
    user = authenticate(request, username=(email or "").strip(), password=password or "")
    if user is None:
        raise_if_locked(request)  # login_locked (429) after too many failures
        raise ApplicationError(*INVALID_CREDENTIALS, status=401)
    guardian = Guardian.objects.select_related("family").filter(user=user).first()
    if guardian is not None and guardian.family.status == Family.Status.SUSPENDED:
        raise family_suspended_error(_tenant())
    return user


def family_token_issue(*, email: str, password: str, device: str = "default", request=None) -> str:
    user = family_authenticate(email=email, password=password, request=request)
    _token, raw = api_token_issue(user=user, name=device)
    return raw


def _reset_url(user: User, link: str = "password_reset") -> str:
    """The one-time link (``password_reset`` or ``set_password``, portal.links) for ``user``."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return links.url(link, uidb64=uid, token=token)


def password_reset_request(*, email: str) -> None:
    """Email a reset link if an active account has this address. Says nothing either way, so
    the endpoint cannot be used to find out who has an account."""
    try:
        email = _clean_email(email)
    except ApplicationError:
        return
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        return
    tenant = _tenant()
    name = tenant.name if tenant else "your portal"
    url = _reset_url(user)
    transaction.on_commit(
        lambda: send_mail(
            subject=f"Reset your {name} password",
            message=f"Choose a new password here:\n{url}\n\nIf you did not ask for this, ignore "
            "this email; your password stays the same.",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )
    )


def password_reset_confirm(*, uid: str, token: str, password: str) -> User:
    invalid = ApplicationError(
        "reset_link_invalid", "This reset link is invalid or has expired. Ask for a new one."
    )
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        raise invalid from None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        raise invalid
    if user.has_usable_password() and user.check_password(password):
        raise _field(
            "password", "password_reused", "Choose a password you have not used here before."
        )
    password_check(password, user=user)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def _profile_changed(family_id: int, summary: str, obj) -> None:
    """A family's own change to its profile lands in the staff's activity inbox."""
    activity_record(kind="profile_changed", family_id=family_id, summary=summary, obj=obj)


def _require_primary(guardian: Guardian) -> None:
    if not guardian.is_primary:
        raise ApplicationError(
            "primary_guardian_only", "Only the primary guardian can change this.", status=403
        )


@transaction.atomic
def family_update(*, guardian: Guardian, **changes) -> Family:
    _require_primary(guardian)
    family = Family.objects.select_for_update().get(pk=guardian.family_id)
    unknown = set(changes) - set(FAMILY_FIELDS)
    if unknown:
        raise ApplicationError(
            "invalid_input",
            _("Cannot change: %(fields)s.") % {"fields": formats.listing(sorted(unknown))},
        )
    if "name" in changes:
        changes["name"] = _name(changes["name"], "name", "Family name", 150)
    if changes.get("country"):
        country = changes["country"].strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise _field("country", "country_invalid", "Use a two-letter country code, e.g. US.")
        changes["country"] = country
    for field, value in changes.items():
        setattr(family, field, value.strip() if isinstance(value, str) else value)
    family.full_clean()
    family.save()
    _profile_changed(family.pk, f"Family details changed ({', '.join(sorted(changes))})", family)
    return family


def _student_values(values: dict) -> dict:
    out = dict(values)
    if "first_name" in out:
        out["first_name"] = _name(out["first_name"], "first_name", "First name")
    if "last_name" in out:
        out["last_name"] = _name(out["last_name"], "last_name", "Last name")
    if "date_of_birth" in out:
        born: date = out["date_of_birth"]
        today = timezone.localdate()
        if born > today:
            raise _field(
                "date_of_birth", "date_of_birth_in_future", "The date of birth is in the future."
            )
        if born.year < today.year - 120:
            raise _field("date_of_birth", "date_of_birth_invalid", "Check the date of birth.")
    if "gender" in out and out["gender"] not in Student.Gender.values:
        raise _field(
            "gender",
            "gender_invalid",
            _("Choose one of: %(choices)s.") % {"choices": formats.listing(Student.Gender.values)},
        )
    if out.get("level") is not None and not isinstance(out["level"], Level):
        level = Level.objects.filter(pk=out["level"]).first()
        if level is None:
            raise _field("level", "level_not_found", "That level does not exist.")
        out["level"] = level
    return out


def _level_placement_check(current_level_id: int | None, values: dict) -> None:
    """Unless the business lets families place their students (``families_may_set_levels``),
    a level is set by staff: a family may leave it out or send back the one it has, never
    choose or change it (``level_set_by_staff``)."""
    if "level" not in values or portal_settings_get().families_may_set_levels:
        return
    level = values["level"]
    level_id = level.pk if isinstance(level, Level) else level
    if level_id != current_level_id:
        message = _("Levels are set by the business; ask them to place your student.")
        raise ApplicationError(
            "level_set_by_staff", message, status=403, fields={"level": [message]}
        )


@transaction.atomic
def student_create(*, guardian: Guardian, **values) -> Student:
    _level_placement_check(None, values)
    values = _student_values(values)
    student = Student(family_id=guardian.family_id, **values)
    student.full_clean()
    student.save()
    _profile_changed(student.family_id, f"Student added: {student.first_name}", student)
    return student


@transaction.atomic
def student_update(*, guardian: Guardian, student: Student, **values) -> Student:
    if student.family_id != guardian.family_id:
        raise student_not_found()
    unknown = set(values) - set(STUDENT_FIELDS)
    if unknown:
        raise ApplicationError(
            "invalid_input",
            _("Cannot change: %(fields)s.") % {"fields": formats.listing(sorted(unknown))},
        )
    _level_placement_check(student.level_id, values)
    for field, value in _student_values(values).items():
        setattr(student, field, value)
    student.full_clean()
    student.save()
    _profile_changed(
        student.family_id,
        f"{student.first_name}'s profile changed ({', '.join(sorted(values))})",
        student,
    )
    return student


@transaction.atomic
def guardian_add(
    *,
    guardian: Guardian,
    first_name: str,
    last_name: str,
    email: str,
    phone: str = "",
    relationship: str = "",
) -> Guardian:
    """An additional guardian with their own login: they get an email to choose a password."""
    _require_primary(guardian)
    first_name = _name(first_name, "first_name", "First name")
    last_name = _name(last_name, "last_name", "Last name")
    email = _clean_email(email)
    _email_free(email)
    user = User.objects.create_user(email=email, full_name=f"{first_name} {last_name}")
    added = Guardian.objects.create(
        family_id=guardian.family_id,
        user=user,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=(phone or "").strip()[:30],
        relationship=(relationship or "")[:50],
    )
    url = _reset_url(user, "set_password")
    tenant = _tenant()
    name = tenant.name if tenant else "the portal"
    transaction.on_commit(
        lambda: send_mail(
            subject=f"You have been added to a family account at {name}",
            message=f"{guardian.first_name} {guardian.last_name} added you as a guardian. "
            f"Choose your password here:\n{url}",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[email],
        )
    )
    return added


def _contact_phone(phone: str) -> str:
    phone = (phone or "").strip()
    if not phone:
        raise _field("phone", "phone_required", "A phone number is required.")
    if len(phone) > 30 or not any(ch.isdigit() for ch in phone):
        raise _field("phone", "phone_invalid", "Enter a phone number.")
    return phone


@transaction.atomic
def emergency_contact_create(
    *, guardian: Guardian, name: str, phone: str, relationship: str = ""
) -> EmergencyContact:
    name = _name(name, "name", "Name", 150)
    phone = _contact_phone(phone)
    return EmergencyContact.objects.create(
        family_id=guardian.family_id, name=name, phone=phone, relationship=(relationship or "")[:50]
    )


@transaction.atomic
def emergency_contact_update(
    *,
    guardian: Guardian,
    contact_id: int,
    name: str | None = None,
    phone: str | None = None,
    relationship: str | None = None,
) -> EmergencyContact:
    """Any guardian of the family edits one of its emergency contacts (the fields given).
    Every field's problem is reported at once, under the first problem's code; a contact of
    another family is ``contact_not_found``."""
    contact = (
        EmergencyContact.objects.select_for_update()
        .filter(pk=contact_id, family_id=guardian.family_id)
        .first()
    )
    if contact is None:
        raise contact_not_found()
    problems: list[ApplicationError] = []
    changes: dict[str, str] = {}
    for field, value, clean in (
        ("name", name, lambda v: _name(v, "name", "Name", 150)),
        ("phone", phone, _contact_phone),
    ):
        if value is None:
            continue
        try:
            changes[field] = clean(value)
        except ApplicationError as exc:
            problems.append(exc)
    if problems:
        fields = {k: v for exc in problems for k, v in exc.fields.items()}
        raise ApplicationError(problems[0].code, problems[0].message, fields=fields)
    if relationship is not None:
        changes["relationship"] = relationship.strip()[:50]
    for field, value in changes.items():
        setattr(contact, field, value)
    if changes:
        contact.save(update_fields=sorted(changes))
        _profile_changed(guardian.family_id, f"Emergency contact changed: {contact.name}", contact)
    return contact


def emergency_contact_delete(*, guardian: Guardian, contact: EmergencyContact) -> None:
    if contact.family_id != guardian.family_id:
        raise contact_not_found()
    contact.delete()


@transaction.atomic
def policies_accept(
    *, guardian: Guardian, consents: list[PolicyConsent], ip: str | None = None
) -> list[PolicyAcceptance]:
    if not consents:
        raise _field("policies", "policies_required", "Accept at least one policy.")
    accepted = _record_consents(family=guardian.family, guardian=guardian, consents=consents, ip=ip)
    if accepted:
        titles = ", ".join(sorted({a.policy.title for a in accepted}))
        activity_record(
            kind="policy_accepted",
            family_id=guardian.family_id,
            summary=f"{guardian.first_name} accepted {titles}",
            obj=accepted[0],
        )
    return accepted


@transaction.atomic
def policy_save(*, policy: Policy, text_changed: bool) -> Policy:
    """Staff edit a policy; a changed text is a new version that everyone accepts again."""
    if policy.pk and text_changed:
        policy.version = Policy.objects.select_for_update().get(pk=policy.pk).version + 1
    policy.full_clean()
    policy.save()
    return policy


# --- calendar feed -----------------------------------------------------------------------------


def calendar_feed_regenerate(*, family: Family):
    """A new secret URL; the old one stops working at once (calendar apps must re-subscribe)."""
    import secrets

    from .models import CalendarFeed

    with transaction.atomic():
        CalendarFeed.objects.filter(family=family).delete()
        return CalendarFeed.objects.create(family=family, token=secrets.token_urlsafe(32))


def calendar_feed_revoke(*, family: Family) -> bool:
    """Switch the feed off: its URL answers 404 until the family creates a new one."""
    from .models import CalendarFeed

    deleted, _rows = CalendarFeed.objects.filter(family=family).delete()
    return bool(deleted)


# --- a guardian's own account ----------------------------------------------------------------


@transaction.atomic
def guardian_self_update(
    *, guardian: Guardian, first_name: str, last_name: str, phone: str = ""
) -> Guardian:
    """A guardian edits their own name and phone (any guardian, for themselves). Every field's
    problem is reported at once (``fields``), under the first problem's code."""
    problems: list[ApplicationError] = []
    clean = {}
    for field, label, value in (
        ("first_name", "First name", first_name),
        ("last_name", "Last name", last_name),
    ):
        try:
            clean[field] = _name(value, field, label)
        except ApplicationError as exc:
            problems.append(exc)
    phone = (phone or "").strip()
    if phone and (len(phone) > 30 or not any(ch.isdigit() for ch in phone)):
        problems.append(_field("phone", "phone_invalid", "Enter a phone number."))
    if problems:
        fields = {k: v for exc in problems for k, v in exc.fields.items()}
        raise ApplicationError(problems[0].code, problems[0].message, fields=fields)
    first_name, last_name = clean["first_name"], clean["last_name"]
    guardian = Guardian.objects.select_for_update().get(pk=guardian.pk)
    guardian.first_name, guardian.last_name, guardian.phone = first_name, last_name, phone
    guardian.save(update_fields=["first_name", "last_name", "phone"])
    User.objects.filter(pk=guardian.user_id).update(full_name=f"{first_name} {last_name}")
    _profile_changed(
        guardian.family_id, f"{first_name} {last_name} changed their details", guardian
    )
    return guardian


def password_change(*, user: User, current_password: str, new_password: str) -> User:
    """Change the password while signed in: the current one first, then Django's validators."""
    if not user.check_password(current_password or ""):
        raise _field(
            "current_password", "password_incorrect", "Your current password is not correct."
        )
    password_check(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def password_change_keep_device(
    *, user: User, current_password: str, new_password: str, device: str
) -> str:
    """``password_change`` from an app: the new password ends every sign-in (each API token is
    revoked), then the device that asked gets a fresh token, so it stays signed in. Returns the
    raw token."""
    password_change(user=user, current_password=current_password, new_password=new_password)
    _token, raw = api_token_issue(user=user, name=device)
    return raw


@transaction.atomic
def guardian_remove(*, guardian: Guardian, guardian_id: int) -> None:
    """The primary guardian removes another guardian: their login stops working at once (the
    account is deactivated and its app tokens revoked); what they did stays on record."""
    _require_primary(guardian)
    removed = (
        Guardian.objects.select_for_update()
        .filter(pk=guardian_id, family_id=guardian.family_id)
        .first()
    )
    if removed is None:
        raise ApplicationError("guardian_not_found", "No such guardian in the family.", status=404)
    if removed.is_primary or removed.pk == guardian.pk:
        raise ApplicationError(
            "primary_guardian_not_removable",
            "The primary guardian cannot be removed.",
            status=409,
        )
    from kernel.users.models import ApiToken

    if removed.user_id:
        User.objects.filter(pk=removed.user_id).update(is_active=False)
        ApiToken.objects.filter(user_id=removed.user_id).delete()
    removed.delete()
