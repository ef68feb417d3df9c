"""Slug rules. A slug is the tenant's DNS label (<slug>.<PLATFORM_DOMAIN>) and its PostgreSQL
schema name, so it must be valid as both; each rule has its own error code and message."""

from __future__ import annotations

import re

from kernel.errors import ApplicationError

SLUG_MAX_LENGTH = 40

# Labels that are, or may one day be, the platform's own hosts, plus names PostgreSQL or the
# project reserve for schemas.
RESERVED_SLUGS = frozenset(
    {
        "admin", "api", "app", "apps", "assets", "auth", "billing", "blog", "cdn", "dashboard",
        "dev", "docs", "email", "ftp", "help", "imap", "information_schema", "internal", "login",
        "mail", "media", "mobile", "mx", "ns", "ns1", "ns2", "platform", "pop", "portal",
        "public", "root", "shop", "smtp", "staging", "static", "status", "store", "support",
        "system", "template", "test", "webhooks", "webmail", "www",
    }
)  # fmt: skip

_ALLOWED = re.compile(r"^[a-z0-9-]+\Z")


def slug_errors(slug: object) -> list[ApplicationError]:
    """All rule violations of a slug, in a stable order (uniqueness is checked by the caller)."""
    if not isinstance(slug, str) or slug == "":
        message = "A slug is required."
        return [ApplicationError("slug_required", message, fields={"slug": [message]})]
    errors: list[tuple[str, str]] = []
    if len(slug) > SLUG_MAX_LENGTH:
        errors.append(
            ("slug_too_long", f"The slug may be at most {SLUG_MAX_LENGTH} characters long.")
        )
    if not _ALLOWED.match(slug):
        errors.append(
            (
                "slug_invalid_characters",
                "The slug may contain only lowercase letters a-z, digits 0-9 and hyphens.",
            )
        )
    if not slug[0].isascii() or not slug[0].isalpha() or not slug[0].islower():
        errors.append(("slug_must_start_with_letter", "The slug must start with a letter a-z."))
    if slug.endswith("-"):
        errors.append(("slug_ends_with_hyphen", "The slug must not end with a hyphen."))
    if "--" in slug:
        errors.append(("slug_double_hyphen", "The slug must not contain two hyphens in a row."))
    if slug in RESERVED_SLUGS:
        errors.append(("slug_reserved", f"The slug “{slug}” is reserved; choose another."))
    return [ApplicationError(code, message, fields={"slug": [message]}) for code, message in errors]


def slug_validate(slug: object) -> str:
    """Raise the first rule violation, naming it; return the slug when it is valid."""
    errors = slug_errors(slug)
    if errors:
        first = errors[0]
        raise ApplicationError(
            first.code, first.message, fields={"slug": [e.message for e in errors]}
        )
    return slug  # type: ignore[return-value]
