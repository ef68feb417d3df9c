"""A guardian changes their own email address, verified: the new address gets a signed link
(``django.core.signing`` with a salt of its own, valid ``EMAIL_CHANGE_LINK_HOURS``); the change
applies only when that link is confirmed, and the old address is then told. Nothing is stored
while a change waits: the link carries the guardian, the business, the address it changes
from and the one it changes to, so it stops working once the address has changed (used, or
changed again) and means nothing on another business's host."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.users.models import User

from .models import Guardian
from .services import _clean_email, _profile_changed, _tenant

SALT = "portal.accounts.email-change"
EMAIL_CHANGE_LINK_HOURS = 48
CONFIRM_PATH = "/account/email/confirm/"


def _link_invalid() -> ApplicationError:
    return ApplicationError(
        "email_change_link_invalid",
        _(
            "This confirmation link is not valid (it may have been used already). "
            "Ask for a new one from your account page."
        ),
    )


def _link_expired() -> ApplicationError:
    return ApplicationError(
        "email_change_link_expired",
        _(
            "This confirmation link has expired (links last %(hours)d hours). "
            "Ask for a new one from your account page."
        )
        % {"hours": EMAIL_CHANGE_LINK_HOURS},
    )


def _email_taken() -> ApplicationError:
    message = _("An account with this email already exists. Choose another address.")
    return ApplicationError("email_taken", message, status=409, fields={"new_email": [message]})


@dataclass(frozen=True)
class EmailChange:
    guardian: Guardian
    user: User
    old_email: str
    new_email: str


def email_change_request(*, guardian: Guardian, new_email: str, password: str) -> str:
    """Send the confirmation link to ``new_email`` (after the guardian's current password).
    Returns the address it went to. Changes nothing yet."""
    user_id = guardian.user_id
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        raise ApplicationError("account_inactive", _("This account is not active."), status=403)
    if not user.check_password(password or ""):
        message = _("Your current password is not correct.")
        raise ApplicationError("password_incorrect", message, fields={"password": [message]})
    new_email = _clean_email(new_email, field="new_email")
    if new_email == user.email.lower():
        message = _("This is already your email address.")
        raise ApplicationError("email_unchanged", message, fields={"new_email": [message]})
    if User.objects.filter(email__iexact=new_email).exists():
        raise _email_taken()
    token = signing.dumps(
        {
            "s": connection.schema_name,
            "g": guardian.pk,
            "u": user.pk,
            "from": user.email.lower(),
            "to": new_email,
        },
        salt=SALT,
        compress=True,
    )
    tenant = _tenant()
    path = f"{CONFIRM_PATH}{token}/"
    url = tenant.url(path) if tenant else path
    name = tenant.name if tenant else "your portal"
    transaction.on_commit(
        lambda: send_mail(
            subject=f"Confirm your new email address at {name}",
            message=f"Hello {guardian.first_name},\n\nYou asked to sign in to {name} with this "
            f"address from now on. Confirm it here (the link lasts {EMAIL_CHANGE_LINK_HOURS} "
            f"hours):\n{url}\n\nUntil you confirm, your account keeps its old address. If you "
            "did not ask for this, ignore this email.\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[new_email],
        )
    )
    return new_email


def email_change_check(*, token: str) -> EmailChange:
    """The change a link asks for, checked (signature, age, business, still the guardian's
    current address); ``email_change_link_invalid`` or ``_expired`` otherwise."""
    if not token or len(token) > 1000:
        raise _link_invalid()
    try:
        data = signing.loads(token, salt=SALT, max_age=EMAIL_CHANGE_LINK_HOURS * 3600)
    except signing.SignatureExpired:
        raise _link_expired() from None
    except signing.BadSignature:
        raise _link_invalid() from None
    if not isinstance(data, dict) or data.get("s") != connection.schema_name:
        raise _link_invalid()
    guardian_id, user_id = data.get("g"), data.get("u")
    if not isinstance(guardian_id, int) or not isinstance(user_id, int):
        raise _link_invalid()
    guardian = (
        Guardian.objects.select_related("user")
        .filter(pk=guardian_id, user_id=user_id, user__is_active=True)
        .first()
    )
    if guardian is None or guardian.user is None or guardian.user.email.lower() != data.get("from"):
        raise _link_invalid()
    return EmailChange(
        guardian=guardian, user=guardian.user, old_email=data["from"], new_email=data["to"]
    )


@transaction.atomic
def email_change_confirm(*, token: str) -> Guardian:
    """Apply the change a confirmation link asks for: the login and the guardian record take
    the new address, and the old address is told. The address must still be free
    (``email_taken``)."""
    change = email_change_check(token=token)
    user = User.objects.select_for_update().get(pk=change.user.pk)
    if user.email.lower() != change.old_email:
        raise _link_invalid()
    if User.objects.filter(email__iexact=change.new_email).exclude(pk=user.pk).exists():
        raise _email_taken()
    user.email = change.new_email
    try:
        with transaction.atomic():  # a savepoint: another confirm of the address may win
            user.save(update_fields=["email"])
    except IntegrityError:
        raise _email_taken() from None
    guardian = Guardian.objects.select_for_update().get(pk=change.guardian.pk)
    guardian.email = change.new_email
    guardian.save(update_fields=["email"])
    _profile_changed(
        guardian.family_id,
        f"{guardian.first_name} {guardian.last_name} changed their email address",
        guardian,
    )
    tenant = _tenant()
    name = tenant.name if tenant else "your portal"
    old, new = change.old_email, change.new_email
    transaction.on_commit(
        lambda: send_mail(
            subject=f"Your email address at {name} was changed",
            message=f"Hello {guardian.first_name},\n\nThe email address of your {name} account "
            f"was changed from {old} to {new}; sign in with the new address from now on.\n\n"
            f"If you did not make this change, contact {name} at once"
            + (f" ({tenant.contact_email})" if tenant and tenant.contact_email else "")
            + ".\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[old],
        )
    )
    return guardian
