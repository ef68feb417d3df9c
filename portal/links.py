"""The web links the domain puts in emails and notifications, in one place.

``portal/`` knows no delivery (docs/architecture.md): it cannot ``reverse()`` a route of
``portal_web`` or the staff console, so the paths a family or a staff member is sent to are
named here, with the web route each one opens. ``tests/portal/test_links.py`` resolves every
link against the tenant host's URL map and fails when a route is renamed or moved; a walk in
``tests/test_layers.py`` fails on a path written out anywhere else in ``portal/``.

    links.url("order_receipt", order_id=order.pk)   # https://<host>/orders/12/receipt/
"""

from __future__ import annotations

from django.db import connection

# name -> (path with {placeholders}, the URL name of the web route it opens)
LINKS: dict[str, tuple[str, str]] = {
    "home": ("/", "portal-home"),
    "signup": ("/signup/", "portal-signup"),
    "classes": ("/classes/", "portal-classes"),
    "requests": ("/requests/", "portal-requests"),
    "staff": ("/staff/", "portal-staff"),
    "store": ("/store/", "portal-store"),
    "cart": ("/cart/", "portal-cart"),
    "waitlist": ("/waitlist/", "portal-waitlist"),
    "enrollments": ("/enrollments/", "portal-enrollments"),
    # The order's page: what is due and the ways to pay it (a saved card or a new one).
    "order": ("/orders/{order_id}/", "portal-order"),
    "order_receipt": ("/orders/{order_id}/receipt/", "portal-order-receipt"),
    "set_password": ("/account/set-password/{uidb64}/{token}/", "portal-set-password"),
    "password_reset": ("/account/reset/{uidb64}/{token}/", "portal-password-reset"),
    "console_login": ("/console/login/", "console-login"),
}


def path(name: str, **params: object) -> str:
    """The path of link ``name`` with its placeholders filled (KeyError on an unknown name or
    a missing placeholder: a programming error, never a family's input)."""
    return LINKS[name][0].format(**params)


def url(name: str, *, tenant: object | None = None, **params: object) -> str:
    """The absolute link on the business's own host (``tenant``, or the current schema's);
    the bare path when there is no tenant (the public schema)."""
    tenant = tenant if tenant is not None else getattr(connection, "tenant", None)
    target = path(name, **params)
    if getattr(tenant, "schema_name", "public") == "public":
        return target
    return tenant.url(target)  # type: ignore[union-attr]
