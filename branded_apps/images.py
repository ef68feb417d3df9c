"""Every picture a store build needs, rendered from the theme's app icon and logo with Pillow.

Rendering is deterministic: the same source images and colours give the same bytes (PNG
without timestamps or text chunks), which keeps bundles byte-identical for the same inputs."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from .rules import Problem

ICON_SIZE = 1024
# Android launcher icons, mdpi..xxxhdpi.
LEGACY_SIZES = {"mdpi": 48, "hdpi": 72, "xhdpi": 96, "xxhdpi": 144, "xxxhdpi": 192}
# Adaptive icon layers are 108 dp; the launcher shows the inner 72 dp through a mask and the
# safe zone that every mask keeps is a 66 dp circle.
ADAPTIVE_SIZES = {"mdpi": 108, "hdpi": 162, "xhdpi": 216, "xxhdpi": 324, "xxxhdpi": 432}
ADAPTIVE_SAFE_ZONE = 66 / 108
PLAY_ICON_SIZE = 512
FEATURE_GRAPHIC_SIZE = (1024, 500)
SPLASH_SIZE = 1024


def _rgb(hex_value: str) -> tuple[int, int, int]:
    value = hex_value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=9)
    return buffer.getvalue()


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def has_transparency(image: Image.Image) -> bool:
    """True when some pixel is not fully opaque (an alpha channel that is all 255 is not)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        alpha = image.convert("RGBA").getchannel("A")
        return alpha.getextrema()[0] < 255
    return False


def icon_problems(data: bytes | None, field: str = "app_icon") -> list[Problem]:
    if not data:
        return [
            Problem(
                "app_icon_missing",
                field,
                "Upload a 1024x1024 PNG app icon in the theme (brand image “app_icon”).",
            )
        ]
    try:
        image = _open(data)
    except (UnidentifiedImageError, OSError):
        return [Problem("app_icon_unreadable", field, "The app icon is not a readable image.")]
    problems = []
    if image.format != "PNG":
        problems.append(Problem("app_icon_not_png", field, "The app icon must be a PNG."))
    if image.size != (ICON_SIZE, ICON_SIZE):
        problems.append(
            Problem(
                "app_icon_size_invalid",
                field,
                f"The app icon must be {ICON_SIZE}x{ICON_SIZE} pixels "
                f"(this one is {image.size[0]}x{image.size[1]}).",
            )
        )
    if has_transparency(image):
        problems.append(
            Problem(
                "app_icon_has_alpha",
                field,
                "The app icon has transparent pixels; the App Store refuses icons with an alpha "
                "channel. Upload it flattened onto a solid background.",
            )
        )
    elif "A" in image.getbands():
        problems.append(
            Problem(
                "app_icon_alpha_channel",
                field,
                "The app icon carries an (all-opaque) alpha channel; the build removes it.",
                blocking=False,
            )
        )
    return problems


def icon_image(data: bytes) -> Image.Image:
    """The source icon as an opaque 1024x1024 RGB image (checked by ``icon_problems``)."""
    return _open(data).convert("RGB")


def resized(image: Image.Image, size: int) -> Image.Image:
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _circle_mask(size: int) -> Image.Image:
    # Drawn at 4x and reduced, for a smooth edge that is still the same every time.
    big = Image.new("L", (size * 4, size * 4), 0)
    ImageDraw.Draw(big).ellipse((0, 0, size * 4 - 1, size * 4 - 1), fill=255)
    return big.resize((size, size), Image.Resampling.LANCZOS)


def adaptive_foreground(icon: Image.Image, size: int) -> Image.Image:
    """The icon, cut to a circle that fits the 66 dp safe zone, centred on a transparent
    108 dp layer: nothing of the artwork falls outside what every launcher mask shows."""
    inner = round(size * ADAPTIVE_SAFE_ZONE)
    artwork = resized(icon, inner).convert("RGBA")
    artwork.putalpha(_circle_mask(inner))
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    offset = (size - inner) // 2
    layer.paste(artwork, (offset, offset), artwork)
    return layer


def solid(colour: str, size: tuple[int, int]) -> Image.Image:
    return Image.new("RGB", size, _rgb(colour))


def _contain(image: Image.Image, box: int) -> Image.Image:
    width, height = image.size
    scale = min(box / width, box / height)
    return image.resize(
        (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS
    )


def splash(artwork: Image.Image, background: str) -> Image.Image:
    """A 1024x1024 splash: the logo (or icon) centred on a solid background colour."""
    canvas = solid(background, (SPLASH_SIZE, SPLASH_SIZE))
    art = _contain(artwork.convert("RGBA"), int(SPLASH_SIZE * 0.6))
    offset = ((SPLASH_SIZE - art.size[0]) // 2, (SPLASH_SIZE - art.size[1]) // 2)
    canvas.paste(art, offset, art)
    return canvas


def feature_graphic(icon: Image.Image, name: str, background: str, text: str) -> Image.Image:
    """Google Play's 1024x500 feature graphic, without alpha: icon and app name on the brand
    colour."""
    width, height = FEATURE_GRAPHIC_SIZE
    canvas = solid(background, FEATURE_GRAPHIC_SIZE)
    art = resized(icon, 300)
    canvas.paste(art, (70, (height - 300) // 2))
    draw = ImageDraw.Draw(canvas)
    size = 64
    font = ImageFont.load_default(size=size)
    while size > 24 and draw.textlength(name, font=font) > width - 440:
        size -= 4
        font = ImageFont.load_default(size=size)
    draw.text((410, height // 2), name, fill=_rgb(text), font=font, anchor="lm")
    return canvas


def open_artwork(data: bytes) -> Image.Image:
    return _open(data)
