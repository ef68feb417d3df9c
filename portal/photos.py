"""Photos people upload (staff bios, students): checked for what they really are (Pillow),
re-encoded (which drops EXIF, GPS included) and shrunk before they are stored. The callers store
the bytes under the business's prefix before any row is locked (storage may be S3, and no
network call is made while a row lock is held)."""

from __future__ import annotations

import io
import warnings

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from kernel.errors import ApplicationError

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_PIXELS = 4000 * 4000
MIN_PHOTO_SIDE = 64
STORED_SIDE = 800  # photos are shown at 160 px; 800 keeps them sharp on any screen
FORMATS = {"PNG": ("png", "PNG"), "JPEG": ("jpg", "JPEG"), "WEBP": ("webp", "WEBP")}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


def _bad_photo(code: str, message: str) -> ApplicationError:
    return ApplicationError(code, message, fields={"photo": [message]})


def photo_checked(name: str, data: bytes) -> tuple[bytes, str]:
    """The photo re-encoded (EXIF dropped, GPS included; upright; at most STORED_SIDE a side)
    and its extension. Refused with ``invalid_input`` (empty), ``image_too_large``,
    ``image_type_unsupported`` (SVG, not an image, not PNG/JPEG/WebP), ``image_size_invalid``
    (too small or too many pixels) or ``image_type_mismatch`` (a PNG named .jpg), each with
    ``fields.photo``."""
    if not data:
        raise _bad_photo("invalid_input", "Choose a photo to upload.")
    if len(data) > MAX_PHOTO_BYTES:
        raise _bad_photo("image_too_large", "Images may be at most 5 MB.")
    if data.lstrip()[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in data[:512].lower():
        raise _bad_photo(
            "image_type_unsupported", "SVG images are not accepted; use PNG, JPEG or WebP."
        )
    try:
        with warnings.catch_warnings():  # the size is refused below, not warned about
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))  # reads the header only
        with probe:
            kind, (width, height) = probe.format, probe.size
            if width * height > MAX_PHOTO_PIXELS:
                raise _bad_photo(
                    "image_size_invalid",
                    _(
                        "This image is %(width)sx%(height)s pixels; "
                        "images may be at most 4000 a side."
                    )
                    % {"width": width, "height": height},
                )
            probe.verify()
        if kind not in FORMATS:
            raise _bad_photo("image_type_unsupported", "Use a PNG, JPEG or WebP image.")
        if min(width, height) < MIN_PHOTO_SIDE:
            raise _bad_photo(
                "image_size_invalid",
                _("Use a photo at least %(pixels)s pixels on its shorter side.")
                % {"pixels": MIN_PHOTO_SIDE},
            )
        extension, encoder = FORMATS[kind]
        named = (name.rsplit(".", 1)[-1] if "." in name else "").lower().replace("jpeg", "jpg")
        if named and named != extension:
            raise _bad_photo(
                "image_type_mismatch",
                _("The file is a %(kind)s image but is named .%(extension)s.")
                % {"kind": kind, "extension": named},
            )
        with Image.open(io.BytesIO(data)) as opened:
            picture: Image.Image = ImageOps.exif_transpose(opened)  # upright, as shot
            picture.thumbnail((STORED_SIDE, STORED_SIDE))
            if encoder == "JPEG" and picture.mode not in ("RGB", "L"):
                picture = picture.convert("RGB")
            out = io.BytesIO()
            picture.save(out, encoder)  # no exif= given: the metadata stays behind
    except Image.DecompressionBombError:
        raise _bad_photo(
            "image_size_invalid", "This image is too large; at most 4000 pixels a side."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _bad_photo("image_type_unsupported", "Use a PNG, JPEG or WebP image.") from None
    return out.getvalue(), extension
