"""The one user model, present in the public schema (platform admins) and in every tenant
schema (the business's staff and its families). A row only ever means something in its own
schema: the same email in two tenants is two unrelated accounts."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def _create(self, email: str, password: str | None, **fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields["is_staff"] = True
        fields["is_superuser"] = True
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    # Stored lowercased (see save), so the unique index is case-insensitive in effect.
    email = models.EmailField("email address", max_length=254, unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can log in to this schema's Django admin."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email = (self.email or "").strip().lower()
        # set_password() leaves the raw value in _password until the save (Django's rehash of
        # an old hash at sign-in clears it first, so an upgrade is not a change).
        password_changed = self._password is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            # A new password (reset, change, admin) ends every sign-in made with the old one:
            # every API token is revoked here, in the same transaction as the save; sessions
            # end by Django's session hash (a session whose hash no longer matches the
            # password is flushed at its next request).
            ApiToken.objects.active().filter(user=self).update(revoked_at=timezone.now())

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split(" ")[0] if self.full_name else "") or self.email


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A bearer token for API clients (apps, scripts). Only its SHA-256 is stored; the raw value
    is shown once, when it is issued. One token per device name and user."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="default", help_text="Device or client name.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="users_apitoken_one_active_per_device",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    def expires_at(self):
        """When this token stops working unless it is used before (sliding: every use moves
        it); None when tokens do not expire (``API_TOKEN_TTL_DAYS`` = 0)."""
        from django.conf import settings

        days = int(getattr(settings, "API_TOKEN_TTL_DAYS", 0) or 0)
        if not days:
            return None
        return (self.last_used_at or self.created_at) + timedelta(days=days)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash_token(raw)

    @staticmethod
    def generate() -> str:
        return secrets.token_urlsafe(32)
