"""The brand fonts the portal serves itself (theming/static/theming/fonts, SIL OFL 1.1): the
``@font-face`` rules for the published font, written into /theme.css so the font a business
chooses is the font families see, from the portal's own host (CSP ``font-src 'self'``)."""

from __future__ import annotations

from django.templatetags.static import static

from .models import FONT_STACKS

WEIGHTS = (400, 700)
# Latin subset (Basic Latin, Latin-1 Supplement and the punctuation English and Spanish use).
LATIN_RANGE = (
    "U+0000-00FF, U+0131, U+0152-0153, U+02BB-02BC, U+02C6, U+02DA, U+02DC, U+0304, U+0308, "
    "U+0329, U+2000-206F, U+20AC, U+2122, U+2191, U+2193, U+2212, U+2215, U+FEFF, U+FFFD"
)


def font_key(family: list[str]) -> str | None:
    """The FONT_STACKS key of a published font stack; None for the system stack."""
    for key, stack in FONT_STACKS.items():
        if key != "system" and family and stack[0] == family[0]:
            return key
    return None


def font_file_url(key: str, weight: int) -> str:
    return static(f"theming/fonts/{key}/{key}-{weight}.woff2")


def font_face_css(family: list[str]) -> str:
    key = font_key(family)
    if key is None:
        return ""
    name = FONT_STACKS[key][0]
    rules = []
    for weight in WEIGHTS:
        rules.append(
            "@font-face {\n"
            f'  font-family: "{name}";\n'
            "  font-style: normal;\n"
            f"  font-weight: {weight};\n"
            "  font-display: swap;\n"
            f'  src: url("{font_file_url(key, weight)}") format("woff2");\n'
            f"  unicode-range: {LATIN_RANGE};\n"
            "}"
        )
    return "\n".join(rules) + "\n"
