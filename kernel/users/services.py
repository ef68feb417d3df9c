"""Writes for users and API tokens. Each runs in the schema the connection is set to."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from kernel.errors import ApplicationError

from .models import ApiToken, User


@transaction.atomic
def api_token_issue(*, user: User, name: str = "default") -> tuple[ApiToken, str]:
    """Issue a token for one device, replacing that device's previous token.

    Returns the stored token and the raw value, which is never stored and cannot be shown again.
    """
    if not user.is_active:
        raise ApplicationError("account_inactive", "This account is not active.", status=403)
    name = (name or "default").strip()[:100] or "default"
    ApiToken.objects.active().filter(user=user, name=name).update(revoked_at=timezone.now())
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[: ApiToken.PREFIX_LENGTH], key_hash=ApiToken.hash(raw)
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def api_token_list(*, user: User):
    """The user's signed-in apps and devices (live tokens), most recently used first. A use
    this process has not written yet (``kernel.api.token_use``) counts: the device a family
    looks from shows it was just used."""
    from django.db import connection

    from kernel.api.token_use import token_use_pending

    now = timezone.now()
    tokens = list(ApiToken.objects.active().filter(user=user))
    for t in tokens:
        kept = token_use_pending(connection.schema_name, t.pk)
        if kept is not None and (t.last_used_at is None or kept > t.last_used_at):
            t.last_used_at = kept
    # Most recently used first, never used last (as used at the dawn of time); ties newest first.
    never = datetime.min.replace(tzinfo=UTC)
    tokens.sort(key=lambda t: (t.last_used_at or never, t.created_at), reverse=True)
    return [t for t in tokens if (t.expires_at() is None or t.expires_at() > now)]


def api_token_revoke_for(*, user: User, token_id: int) -> ApiToken:
    """Sign one of the user's own devices out. Someone else's token, or one already revoked,
    is ``signed_in_device_not_found`` (404): nobody learns whose an id is."""
    token = ApiToken.objects.active().filter(user=user, pk=token_id).first()
    if token is None:
        raise ApplicationError(
            "signed_in_device_not_found", "No such signed-in device.", status=404
        )
    api_token_revoke(token=token)
    return token


def user_get_or_create_staff_owner(*, email: str, full_name: str = "") -> tuple[User, bool]:
    """The business owner's account in the current tenant schema: staff and superuser of that
    schema's admin, with no password until they follow their set-password link."""
    email = User.objects.normalize_email(email).lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        return existing, False
    return User.objects.create_superuser(email=email, full_name=full_name), True
