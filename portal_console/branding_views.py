"""Branding in the console (/console/settings/branding/): the draft's colours with a live
preview of the portal and of the app's launcher icon and splash, the logo, favicon and app
icon, the contrast check with its suggested fixes applied in one click, publishing and rolling
back. Every write is one ``theming.services`` call; ``edit_theme`` edits the draft,
``publish_theme`` publishes and rolls back (owner and manager hold both)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel.errors import ApplicationError
from kernel.staff_permissions import perm, staff_has_perm
from kernel.storage import media_path
from theming import services
from theming.models import BINARY_FIELDS, COLOUR_ROLES, RUNTIME_FIELDS, ThemeVersion

from .access import console_page, methods
from .settings_nav import settings_nav_for

PAGE = "/console/settings/branding/"
COLOUR_LABELS = {
    "primary": gettext_lazy("Primary"),
    "secondary": gettext_lazy("Secondary"),
    "accent": gettext_lazy("Accent"),
    "background": gettext_lazy("Background"),
    "surface": gettext_lazy("Surface"),
    "text": gettext_lazy("Text"),
    "error": gettext_lazy("Error"),
}
COLOUR_HELP = {
    "primary": gettext_lazy("Buttons and links; the app's launcher icon."),
    "background": gettext_lazy("Pages; the app's splash screen."),
    "surface": gettext_lazy("Cards and panels."),
}
IMAGE_LABELS = {
    "logo": gettext_lazy("Logo"),
    "favicon": gettext_lazy("Favicon"),
    "app_icon": gettext_lazy("App icon"),
}
IMAGE_HELP = {
    "logo": gettext_lazy(
        "PNG, JPEG or WebP, 32 to 4000 pixels a side, at most 5 MB. Shown in the portal's "
        "header and on the app's splash screen."
    ),
    "favicon": gettext_lazy("A square PNG, JPEG or WebP, 32 to 1024 pixels: the browser tab."),
    "app_icon": gettext_lazy(
        "A 1024x1024 PNG without transparency: the branded app's icon in the stores and on phones."
    ),
}
FIELD_LABELS = {
    **COLOUR_LABELS,
    **IMAGE_LABELS,
    "font": gettext_lazy("Font"),
    "header_style": gettext_lazy("Header style"),
    "class_list_layout": gettext_lazy("Class list layout"),
    "corner_radius": gettext_lazy("Corner radius"),
    "density": gettext_lazy("Density"),
}


def _label(field: str) -> str:
    if field.startswith("dark_") and field[5:] in COLOUR_LABELS:
        return _("Dark scheme: %(colour)s") % {"colour": COLOUR_LABELS[field[5:]]}
    return str(FIELD_LABELS.get(field, field))


def _version_row(version: ThemeVersion) -> dict:
    first = version.number == 1  # everything "changed": the page says what it is instead
    return {
        "version": version,
        "first": first,
        "changed": []
        if first
        else [_label(f) for f in version.changed_fields if f in RUNTIME_FIELDS | BINARY_FIELDS],
        "binary": [_label(f) for f in version.changed_fields if f in BINARY_FIELDS],
    }


def _page(request, *, status: int = 200, error: ApplicationError | None = None, values=None):
    brand = services.brand_get()
    current = services.theme_current()
    colours = {role: getattr(brand, role) for role in COLOUR_ROLES}
    if values:
        colours.update(values)
    return render(
        request,
        "portal_console/branding.html",
        {
            "nav": "settings",
            "settings_nav": settings_nav_for(request.user),
            "settings_current": "branding",
            "brand": brand,
            "colours": [
                {
                    "name": role,
                    "label": COLOUR_LABELS[role],
                    "help": COLOUR_HELP.get(role, ""),
                    "value": colours[role],
                }
                for role in COLOUR_ROLES
            ],
            "colour_values": colours,
            "images": [
                {
                    "name": name,
                    "label": IMAGE_LABELS[name],
                    "help": IMAGE_HELP[name],
                    "url": media_path(getattr(brand, name)),
                }
                for name in IMAGE_LABELS
            ],
            "logo_url": media_path(brand.logo),
            "app_icon_url": media_path(brand.app_icon),
            "failures": [
                {**failure, "label": _label(failure["field"])}
                for failure in services.brand_contrast_check()
            ],
            "current": current,
            "draft_changes": _draft_changes(brand, current),
            "versions": [_version_row(v) for v in services.theme_version_list(limit=20)],
            "can_publish": staff_has_perm(request.user, perm("publish_theme")),
            "error": error,
        },
        status=status,
    )


def _draft_changes(brand, current: ThemeVersion | None) -> list[str]:
    if current is None:
        return []
    draft = services.snapshot(brand)
    return [
        _label(name)
        for name in services.SNAPSHOT_FIELDS
        if current.snapshot.get(name) != draft.get(name)
    ]


@methods("GET")
@console_page("edit_theme")
def branding(request):
    return _page(request)


@methods("POST")
@console_page("edit_theme")
def branding_colours(request):
    values = {
        role: request.POST.get(role, "")[:20] for role in COLOUR_ROLES if role in request.POST
    }
    if not values:
        return _page(
            request,
            status=400,
            error=ApplicationError("invalid_input", _("Send at least one colour.")),
        )
    try:
        services.brand_update(**values)
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc, values=values)
    messages.success(
        request, _("The draft's colours are saved. Families see them once you publish.")
    )
    return redirect(PAGE)


@methods("POST")
@console_page("edit_theme")
def branding_image(request, field: str):
    upload = request.FILES.get("file")
    try:
        if field not in IMAGE_LABELS:
            raise ApplicationError(
                "unknown_field", _("“%(field)s” is not a brand image.") % {"field": field[:40]}
            )
        if upload is None:
            raise ApplicationError("invalid_input", _("Choose an image file to upload."))
        if upload.size > services.MAX_IMAGE_BYTES:
            raise ApplicationError("image_too_large", _("Images may be at most 5 MB."))
        services.brand_image_upload(field=field, name=upload.name or "", data=upload.read())
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc)
    messages.success(
        request, _("%(image)s uploaded to the draft.") % {"image": IMAGE_LABELS[field]}
    )
    return redirect(PAGE)


@methods("POST")
@console_page("edit_theme")
def branding_image_remove(request, field: str):
    try:
        services.brand_image_remove(field=field)
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc)
    messages.success(
        request, _("%(image)s removed from the draft.") % {"image": IMAGE_LABELS[field]}
    )
    return redirect(PAGE)


@methods("POST")
@console_page("edit_theme")
def branding_contrast_fix(request):
    fields = request.POST.getlist("field") or None
    try:
        services.brand_contrast_fix(fields=[f[:32] for f in fields] if fields else None)
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc)
    messages.success(request, _("The suggested colours are applied to the draft."))
    return redirect(PAGE)


def _build_warning(request, version: ThemeVersion) -> None:
    if version.needs_app_build:
        messages.warning(
            request,
            _(
                "%(fields)s are also built into the branded app (its icon, launcher or splash "
                "screen): they change on phones only with a new app build."
            )
            % {
                "fields": ", ".join(_label(f) for f in version.changed_fields if f in BINARY_FIELDS)
            },
        )


@methods("POST")
@console_page("edit_theme", "publish_theme")
def branding_publish(request):
    try:
        version = services.theme_publish(published_by=request.user.email)
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc)
    messages.success(
        request,
        _("Version %(number)s is published: the portal and the app show it now.")
        % {"number": version.number},
    )
    _build_warning(request, version)
    return redirect(PAGE)


@methods("POST")
@console_page("edit_theme", "publish_theme")
def branding_rollback(request, number: int):
    try:
        version = services.theme_rollback(number=number, published_by=request.user.email)
    except ApplicationError as exc:
        return _page(request, status=exc.status, error=exc)
    messages.success(
        request,
        _("Version %(old)s is published again as version %(number)s.")
        % {"old": number, "number": version.number},
    )
    _build_warning(request, version)
    return redirect(PAGE)
