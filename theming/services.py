"""Brand edits, image uploads and publishing. A publish is refused while any text/background
pair fails WCAG 2.2 AA, with each failing pair, its ratio and the nearest colour that passes."""

from __future__ import annotations

import hashlib
import io
import json

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from PIL import Image, UnidentifiedImageError

from kernel.errors import ApplicationError
from kernel.process_cache import tenant_config
from kernel.storage import media_absolute_url

from .colors import AA_TEXT, AA_UI, check_pairs, parse_hex
from .models import BINARY_FIELDS, COLOUR_ROLES, FONT_STACKS, Brand, ThemeVersion
from .tokens import build_tokens

MAX_IMAGE_BYTES = 5 * 1024 * 1024
# Pixels an uploaded image may claim before anything decodes it: the largest allowed image
# (a 4000 x 4000 logo). A few kilobytes can claim a gigapixel (a decompression bomb); the size
# is read from the header and checked first, and Pillow's own limit is set to the same number
# so nothing else in the process decodes a bigger one (it raises DecompressionBombError at
# twice that, warns above it).
MAX_IMAGE_PIXELS = 4000 * 4000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
IMAGE_RULES = {
    # field: (min side, max side, square, exact size)
    "logo": (32, 4000, False, None),
    "favicon": (32, 1024, True, None),
    "app_icon": (1024, 1024, True, (1024, 1024)),
}
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
CHOICE_FIELDS = {"header_style": Brand.HeaderStyle, "class_list_layout": Brand.ListLayout,
                 "density": Brand.Density}  # fmt: skip


def _bad(field: str, code: str, message: str) -> ApplicationError:
    return ApplicationError(code, message, fields={field: [message]})


def brand_get() -> Brand:
    brand, _ = Brand.objects.get_or_create(id=Brand.SINGLETON_ID)
    return brand


@transaction.atomic
def brand_update(**changes) -> Brand:
    """Edit the draft; each value is checked and a bad one names its field."""
    brand = Brand.objects.select_for_update().get_or_create(id=Brand.SINGLETON_ID)[0]
    for field, value in changes.items():
        if field in COLOUR_ROLES:
            value = parse_hex(value, field)
        elif field.startswith("dark_") and field[5:] in COLOUR_ROLES:
            value = "" if value in ("", None) else parse_hex(value, field)
        elif field == "font":
            if not isinstance(value, str) or value not in FONT_STACKS:
                raise _bad(
                    "font",
                    "font_not_offered",
                    f"Choose a font from the list: {', '.join(FONT_STACKS)}.",
                )
        elif field in CHOICE_FIELDS:
            if not isinstance(value, str) or value not in CHOICE_FIELDS[field].values:
                raise _bad(
                    field,
                    "invalid_choice",
                    f"Choose one of: {', '.join(CHOICE_FIELDS[field].values)}.",
                )
        elif field == "corner_radius":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 24:
                raise _bad(
                    "corner_radius",
                    "radius_out_of_range",
                    "The corner radius must be a whole number from 0 to 24.",
                )
        else:
            raise _bad(field, "unknown_field", f"“{field}” is not a brand setting.")
        setattr(brand, field, value)
    dark = [getattr(brand, f"dark_{role}") for role in COLOUR_ROLES]
    if any(dark) and not all(dark):
        raise _bad(
            "dark_primary", "dark_scheme_incomplete", "Give every dark-scheme colour, or none."
        )
    brand.save()
    return brand


def brand_image_upload(*, field: str, name: str, data: bytes) -> Brand:
    """Store a logo, favicon or app icon after checking what it really is."""
    if field not in IMAGE_RULES:
        raise _bad(field, "unknown_field", f"“{field}” is not a brand image.")
    if len(data) > MAX_IMAGE_BYTES:
        raise _bad(field, "image_too_large", "Images may be at most 5 MB.")
    if data.lstrip()[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in data[:512].lower():
        raise _bad(
            field, "image_type_unsupported", "SVG images are not accepted; use PNG, JPEG or WebP."
        )
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            kind, (width, height) = image.format, image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _bad(
                    field,
                    "image_size_invalid",
                    f"This image is {width}x{height} pixels; images may be at most 4000 a side.",
                )
            image.verify()
    except Image.DecompressionBombError:
        raise _bad(
            field, "image_size_invalid", "This image is too large; at most 4000 pixels a side."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _bad(field, "image_type_unsupported", "Use a PNG, JPEG or WebP image.") from None
    if kind not in FORMATS:
        raise _bad(field, "image_type_unsupported", "Use a PNG, JPEG or WebP image.")
    extension = (name.rsplit(".", 1)[-1] if "." in name else "").lower().replace("jpeg", "jpg")
    if extension and extension != FORMATS[kind]:
        raise _bad(
            field, "image_type_mismatch", f"The file is a {kind} image but is named .{extension}."
        )
    low, high, square, exact = IMAGE_RULES[field]
    if exact and (width, height) != exact:
        raise _bad(
            field,
            "image_size_invalid",
            f"The app icon must be exactly {exact[0]}x{exact[1]} pixels.",
        )
    if field == "app_icon" and kind != "PNG":
        raise _bad(field, "image_type_unsupported", "The app icon must be a PNG.")
    if square and width != height:
        raise _bad(field, "image_size_invalid", "This image must be square.")
    if min(width, height) < low or max(width, height) > high:
        raise _bad(
            field, "image_size_invalid", f"Use an image between {low} and {high} pixels a side."
        )
    digest = hashlib.sha256(data).hexdigest()[:16]
    path = default_storage.save(
        f"{connection.schema_name}/brand/{field}-{digest}.{FORMATS[kind]}", ContentFile(data)
    )
    with transaction.atomic():
        brand = Brand.objects.select_for_update().get_or_create(id=Brand.SINGLETON_ID)[0]
        setattr(brand, field, path)
        brand.save(update_fields=[field, "updated_at"])
    return brand


def brand_image_remove(*, field: str) -> Brand:
    """Take the logo, favicon or app icon off the draft. The file stays in storage: published
    versions may still show it (and a rollback may bring it back)."""
    if field not in IMAGE_RULES:
        raise _bad(field, "unknown_field", f"“{field}” is not a brand image.")
    with transaction.atomic():
        brand = Brand.objects.select_for_update().get_or_create(id=Brand.SINGLETON_ID)[0]
        setattr(brand, field, "")
        brand.save(update_fields=[field, "updated_at"])
    return brand


def _url(path: str) -> str:
    """Absolute on the business's host: /media/ serves the file whatever the storage."""
    return media_absolute_url(path)


SNAPSHOT_FIELDS = (
    *COLOUR_ROLES,
    *(f"dark_{r}" for r in COLOUR_ROLES),
    "font",
    "header_style",
    "class_list_layout",
    "corner_radius",
    "density",
    "logo",
    "favicon",
    "app_icon",
)


# Read from the logo file when a theme is published, not chosen by staff: the portal prints
# them as the <img>'s width and height (no layout shift while it loads). Never "changed fields"
# of their own: they change with the logo.
LOGO_SIZE_FIELDS = ("logo_width", "logo_height")


def _image_size(path: str) -> tuple[int, int] | None:
    """A stored image's pixel size, from its header (nothing is decoded); None if unreadable."""
    if not path:
        return None
    try:
        with default_storage.open(path, "rb") as stored, Image.open(stored) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None
    return (width, height) if width > 0 and height > 0 else None


def snapshot(brand: Brand, *, logo_size: tuple[int, int] | None = None) -> dict:
    data = {name: getattr(brand, name) for name in SNAPSHOT_FIELDS}
    data["logo_url"] = _url(brand.logo)
    data["favicon_url"] = _url(brand.favicon)
    if brand.logo and logo_size:
        data["logo_width"], data["logo_height"] = logo_size
    return data


# (name, foreground field, background field, required ratio); the foreground is what a fix
# changes (the background stays the business's choice).
CONTRAST_PAIRS = (
    ("text on background", "text", "background", AA_TEXT),
    ("text on surface", "text", "surface", AA_TEXT),
    ("error on background", "error", "background", AA_TEXT),
    ("primary on background", "primary", "background", AA_UI),
    ("accent on background", "accent", "background", AA_UI),
)
DARK_CONTRAST_PAIRS = (
    ("dark text on dark background", "dark_text", "dark_background", AA_TEXT),
    ("dark text on dark surface", "dark_text", "dark_surface", AA_TEXT),
    ("dark error on dark background", "dark_error", "dark_background", AA_TEXT),
    ("dark primary on dark background", "dark_primary", "dark_background", AA_UI),
)
PAIR_FIELD = {name: fg for name, fg, _bg, _r in CONTRAST_PAIRS + DARK_CONTRAST_PAIRS}


def contrast_failures(data: dict) -> list:
    pairs = list(CONTRAST_PAIRS)
    if all(data.get(f"dark_{r}") for r in COLOUR_ROLES):
        pairs += DARK_CONTRAST_PAIRS
    return check_pairs([(name, data[fg], data[bg], ratio) for name, fg, bg, ratio in pairs])


def failure_details(failures: list) -> list[dict]:
    """Each failing pair as a dict, with the draft field its suggested fix changes."""
    return [{**f.as_dict(), "field": PAIR_FIELD[f.pair]} for f in failures]


def brand_contrast_check() -> list[dict]:
    """The draft's failing pairs (empty when it may be published)."""
    return failure_details(contrast_failures(snapshot(brand_get())))


def brand_contrast_fix(*, fields: list[str] | None = None) -> Brand:
    """Apply the suggested colour of every failing pair (or only of ``fields``) to the draft,
    in one edit. A colour in two pairs (text on background and on surface) is fixed for the
    stricter one: the suggestion is checked again until both pass."""
    allowed = set(PAIR_FIELD.values())
    if fields is not None:
        unknown = [f for f in fields if f not in allowed]
        if unknown:
            raise _bad(
                unknown[0], "unknown_field", f"“{unknown[0]}” is not a colour a fix can change."
            )
    with transaction.atomic():
        brand = Brand.objects.select_for_update().get_or_create(id=Brand.SINGLETON_ID)[0]
        for _round in range(4):
            failures = [
                f
                for f in contrast_failures(snapshot(brand))
                if fields is None or PAIR_FIELD[f.pair] in fields
            ]
            if not failures:
                break
            for failure in failures:
                setattr(brand, PAIR_FIELD[failure.pair], failure.suggestion)
        brand.save()
    return brand


def theme_publish(*, published_by: str = "") -> ThemeVersion:
    """Publish the draft as the next immutable version. Refused (400 contrast_failed) while any
    pair fails, listing each with its ratio and a suggested colour."""
    # The logo's size is read before the Brand row is locked: the file may be on S3.
    logo = brand_get().logo
    logo_size = _image_size(logo)
    with transaction.atomic():
        brand = Brand.objects.select_for_update().get_or_create(id=Brand.SINGLETON_ID)[0]
        data = snapshot(brand, logo_size=logo_size if brand.logo == logo else None)
        failures = contrast_failures(data)
        if failures:
            details = failure_details(failures)
            raise ApplicationError(
                "contrast_failed",
                f"{len(failures)} colour pair(s) are hard to read: "
                + "; ".join(
                    f"{d['pair']} is {d['ratio']}:1, needs {d['required']}:1 "
                    f"(try {d['suggestion']})"
                    for d in details
                ),
                fields={"colours": [json.dumps(d) for d in details]},
            )
        return _version_create(data, published_by=published_by)


def theme_rollback(*, number: int, published_by: str = "") -> ThemeVersion:
    """Publish again what version ``number`` published, as the next version (versions stay
    immutable and the history says what happened), and make it the draft too, so the next
    edit starts from what families see."""
    with transaction.atomic():
        brand = Brand.objects.select_for_update().get_or_create(id=Brand.SINGLETON_ID)[0]
        target = (
            ThemeVersion.objects.filter(number=number).first()
            if isinstance(number, int) and not isinstance(number, bool) and number > 0
            else None
        )
        if target is None:
            raise ApplicationError(
                "theme_version_not_found",
                "There is no published version with that number.",
                status=404,
            )
        for name in SNAPSHOT_FIELDS:
            if name in target.snapshot:
                setattr(brand, name, target.snapshot[name])
        brand.save()
        width, height = (target.snapshot.get(name) for name in LOGO_SIZE_FIELDS)
        logo_size = (width, height) if isinstance(width, int) and isinstance(height, int) else None
        return _version_create(
            snapshot(brand, logo_size=logo_size),
            published_by=published_by,
            rolled_back_to=number,
        )


def _version_create(data: dict, *, published_by: str, rolled_back_to: int | None = None):
    """The next version from ``data``; the caller holds the Brand row's lock."""
    previous = ThemeVersion.objects.select_for_update().order_by("-number").first()
    changed = sorted(
        k
        for k, v in data.items()
        if not k.endswith("_url")
        and k not in LOGO_SIZE_FIELDS
        and (previous is None or previous.snapshot.get(k) != v)
    )
    tokens = build_tokens(data)
    etag = hashlib.sha256(json.dumps(tokens, sort_keys=True).encode()).hexdigest()
    version = ThemeVersion.objects.create(
        number=(previous.number + 1) if previous else 1,
        snapshot=data,
        tokens=tokens,
        etag=etag,
        changed_fields=changed,
        # The first version is what the first build is made from.
        needs_app_build=previous is not None and bool(set(changed) & BINARY_FIELDS),
        published_by=published_by,
        rolled_back_to=rolled_back_to,
    )
    _share_logo(data["logo_url"])
    return version


def _share_logo(url: str) -> None:
    """The platform directory (public schema) shows each business's logo."""
    from tenants.models import Tenant

    tenant = getattr(connection, "tenant", None)
    if tenant is not None and getattr(tenant, "pk", None):
        Tenant.objects.filter(pk=tenant.pk).update(logo_url=url)


def theme_ensure_published(*, tenant=None) -> ThemeVersion:
    """Provisioning hook: every business starts with a published default theme."""
    current = ThemeVersion.objects.order_by("-number").first()
    return current if current is not None else theme_publish(published_by="provisioning")


def _theme_current_load() -> ThemeVersion | None:
    return ThemeVersion.objects.order_by("-number").first()


def theme_current() -> ThemeVersion | None:
    """The published theme, kept per process (versions are immutable; publishing one reaches
    every process's cache at once through ``kernel.process_cache``)."""
    return tenant_config.get("theme_current", _theme_current_load)


def theme_version_list(*, limit: int = 20) -> list[ThemeVersion]:
    """The published versions, newest first (the model's order), at most ``limit``."""
    return list(ThemeVersion.objects.all()[:limit])


def theme_preview_tokens() -> dict:
    """Tokens of the draft, for staff previewing the portal before publishing."""
    return build_tokens(snapshot(brand_get()))
