from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import get_public_schema_name
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from kernel.api.token_use import token_use_pending, token_use_record
from kernel.queries import CompiledQuery, prepared_cursor
from kernel.users.models import ApiToken, User

# Updating last_used_at on every request would turn each read into a write; once a minute is
# enough to show staff which devices are in use.
LAST_USED_RESOLUTION_SECONDS = 60
KEYWORD = "Bearer"


def bearer_key(request) -> str | None:
    """The raw key of the request's ``Authorization: Bearer <key>`` header (a Django or DRF
    request); None when there is no such header (another scheme, or none). A malformed one
    raises ``AuthenticationFailed``."""
    header = authentication.get_authorization_header(request).split()
    if not header or header[0].lower() != KEYWORD.lower().encode():
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed("Malformed Authorization header.")
    try:
        return header[1].decode()
    except UnicodeError:
        raise exceptions.AuthenticationFailed("Malformed Authorization header.") from None


def bearer_tokens(raw: str) -> QuerySet[ApiToken]:
    """The active (not revoked) token with this raw key, as a queryset (at most one row: the
    hash is unique) a caller may join more onto, so one statement finds all it needs."""
    return _tokens_by_hash(ApiToken.hash(raw))


def _tokens_by_hash(key_hash: str) -> QuerySet[ApiToken]:
    return ApiToken.objects.active().filter(key_hash=key_hash)


_token_lookups: dict[tuple[str, ...], CompiledQuery[ApiToken]] = {}


def _token_lookup(related: tuple[str, ...]) -> CompiledQuery[ApiToken]:
    """The active token by its hash with ``related`` joined, compiled once per connection (the
    lookup of every API request; ``kernel.queries.CompiledQuery``)."""
    lookup = _token_lookups.get(related)
    if lookup is None:
        lookup = _token_lookups[related] = CompiledQuery(
            lambda key_hash: _tokens_by_hash(key_hash).select_related(*related),
            key_hash=str,
        )
    return lookup


def token_in_use(token: ApiToken, *, now: datetime) -> bool:
    """The rules of a presented active token (its user active): False when it has expired
    (``API_TOKEN_TTL_DAYS`` since it was last used; the caller refuses it, and revokes it with
    ``token_revoke_expired`` or leaves that to the ordinary path); otherwise the use is recorded
    (``last_used_at``, at most once a minute, which also slides the expiry; written behind the
    request, ``kernel.api.token_use``) and True.

    Needs only the token's ``pk``, ``created_at`` and ``last_used_at``."""
    kept = token_use_pending(connection.schema_name, token.pk)
    if kept is not None and (token.last_used_at is None or kept > token.last_used_at):
        token.last_used_at = kept  # this process's use not written yet
    expires_at = token.expires_at()
    if expires_at is not None and expires_at <= now:
        return False
    if (
        token.last_used_at is None
        or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
    ):
        token_use_record(token, now, expires_at)
    return True


def token_revoke_expired(token: ApiToken, *, now: datetime) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)


def token_accepted(request, *, select: str = "", join: str = "") -> tuple[ApiToken, tuple] | None:
    """The request's token when ``BearerTokenAuthentication`` would accept it (its use then
    recorded, as there), with what the caller asks of the user's rows, in one plain statement
    (the waiting room's join and leave answered before the stack: a compiled ORM query was
    half of a join's CPU, docs/rush.md "Sixth pass"). ``select``: more columns (after the
    token's), from ``join``: joins onto the token ``t`` and its user ``u``. Returns the token
    (its ``pk``, ``created_at`` and ``last_used_at`` loaded) and the extra columns' values.

    None for anything the authentication refuses (a malformed header, an unknown, revoked or
    expired token, an inactive user; an expired token is not revoked here) or skips (no bearer
    header): the caller leaves those to the ordinary path, which gives its usual answer. The
    rules are ``bearer_tokens`` (the key's hash, not revoked) and the user's ``is_active``;
    ``tests/kernel/users/test_users_and_tokens.py`` holds this statement to that queryset."""
    try:
        raw = bearer_key(request)
    except exceptions.AuthenticationFailed:
        return None
    if raw is None:
        return None
    extra = f", {select}" if select else ""
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT t.id, t.created_at, t.last_used_at{extra} "
            f"FROM {ApiToken._meta.db_table} t "
            f"JOIN {User._meta.db_table} u ON u.id = t.user_id {join} "
            "WHERE t.key_hash = %(hash)s AND t.revoked_at IS NULL AND u.is_active LIMIT 1",
            {"hash": ApiToken.hash(raw)},
        )
        row = cursor.fetchone()
    if row is None:
        return None
    token = ApiToken(pk=row[0], created_at=row[1], last_used_at=row[2])
    if not token_in_use(token, now=timezone.now()):
        return None
    return token, tuple(row[3:])


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` against the hashed tokens of the current schema.

    Tokens live in the schema of the host they were issued on, so a token from tenant A is
    simply unknown on tenant B's host (and on the platform host). A token unused for
    ``API_TOKEN_TTL_DAYS`` has expired (sliding: each use extends it) and is revoked when it
    is next presented. The waiting room's fast join and leave
    (``saas_platform.waiting_room_poll``) apply the same rules through the functions above.
    In a business's schema the user's ``API_TOKEN_USER_RELATED`` rows come in the same
    statement (the family API's guardian and family)."""

    keyword = KEYWORD

    def authenticate(self, request):
        raw = bearer_key(request)
        if raw is None:
            return None
        related = ["user"]
        if connection.schema_name != get_public_schema_name():
            # A business's tables (the platform's schema has only users and tokens).
            related += [f"user__{name}" for name in settings.API_TOKEN_USER_RELATED]
        token = _token_lookup(tuple(related)).one(key_hash=ApiToken.hash(raw))
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if not token_in_use(token, now=now):
            token_revoke_expired(token, now=now)
            raise exceptions.AuthenticationFailed("This token has expired. Sign in again.")
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "kernel.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}
