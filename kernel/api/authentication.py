from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from kernel.users.models import ApiToken

# Updating last_used_at on every request would turn each read into a write; once a minute is
# enough to show staff which devices are in use.
LAST_USED_RESOLUTION_SECONDS = 60


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` against the hashed tokens of the current schema.

    Tokens live in the schema of the host they were issued on, so a token from tenant A is
    simply unknown on tenant B's host (and on the platform host). A token unused for
    ``API_TOKEN_TTL_DAYS`` has expired (sliding: each use extends it) and is revoked when it
    is next presented."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.") from None
        token = (
            ApiToken.objects.active()
            .select_related("user")
            .filter(key_hash=ApiToken.hash(raw))
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        expires_at = token.expires_at()
        if expires_at is not None and expires_at <= now:
            ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
            raise exceptions.AuthenticationFailed("This token has expired. Sign in again.")
        if (
            token.last_used_at is None
            or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
        ):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "kernel.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}
