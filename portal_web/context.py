"""What every portal page needs: the tenant, its portal settings, the published theme and logo,
and the signed-in family (if any). Used as a template context processor; cached per request."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from portal.accounts.selectors import guardian_for_user
from portal.config.selectors import portal_settings_get
from theming.services import theme_current


def portal_context_get(request) -> dict:
    cached = getattr(request, "_portal_web_context", None)
    if cached is not None:
        return cached
    tenant = getattr(request, "tenant", None)
    if tenant is None or getattr(tenant, "schema_name", "public") == "public":
        return {}
    theme = theme_current()
    snapshot = (theme.snapshot or {}) if theme else {}
    user = getattr(request, "user", None)
    guardian = guardian_for_user(user) if user is not None else None
    context = {
        "tenant": tenant,
        "portal": portal_settings_get(request),
        "theme": theme,
        "logo_url": snapshot.get("logo_url") or "",
        # The logo's pixel size, recorded when the theme was published: the <img> gets width and
        # height, so the header does not shift when it loads (versions published before have none).
        "logo_size": _logo_size(snapshot),
        "favicon_url": snapshot.get("favicon_url") or "",
        # The published header style and class-list layout (the brand's choices).
        "layout": {
            "header_style": snapshot.get("header_style") or "left",
            "class_list_layout": snapshot.get("class_list_layout") or "list",
        },
        "guardian": guardian,
        "family": guardian.family if guardian else None,
    }
    request._portal_web_context = context
    return context


def _logo_size(snapshot: dict) -> tuple[int, int] | None:
    width, height = snapshot.get("logo_width"), snapshot.get("logo_height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return (width, height)
    return None


KEYS = (
    "tenant",
    "portal",
    "theme",
    "logo_url",
    "logo_size",
    "favicon_url",
    "layout",
    "guardian",
    "family",
)


def _past_due(request) -> int:
    """What the signed-in family owes past the business's grace period (the banner)."""
    from django.utils import timezone

    from portal.billing.selectors import past_due_amount

    context = portal_context_get(request)
    family = context.get("family")
    if family is None:
        return 0
    after_days = context["portal"].past_due_after_days
    return past_due_amount(family, now=timezone.now(), after_days=after_days)


def _banners(request) -> list:
    """The announcement banners every page shows to this visitor or family."""
    from portal.config.selectors import announcement_banners

    return announcement_banners(family=portal_context_get(request).get("family"))


def portal(request) -> dict:
    """Template context processor (settings.TEMPLATES). Lazy, so templates that never use it
    (the admin on a tenant host) run no query for it."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or getattr(tenant, "schema_name", "public") == "public":
        return {}
    context = {
        key: SimpleLazyObject(lambda key=key: portal_context_get(request)[key]) for key in KEYS
    }
    context["past_due"] = SimpleLazyObject(lambda: _past_due(request))
    context["banners"] = SimpleLazyObject(lambda: _banners(request))
    return context
