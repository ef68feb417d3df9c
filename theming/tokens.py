"""The canonical theme: a Design Tokens Community Group (2025.10) document, built from a brand
snapshot, with derived "on-*" roles readable on their backgrounds."""

from __future__ import annotations

from .colors import components, on_colour
from .models import COLOUR_ROLES, FONT_STACKS

SCHEMA = "https://www.designtokens.org/TR/2025.10/format/"
LAYOUT_EXTENSION = "org.customer-portal.layout"
ON_ROLES = ("primary", "secondary", "accent", "background", "surface", "error")
DENSITY_SPACING = {"compact": 4, "comfortable": 8, "spacious": 12}


def colour_token(hex_value: str) -> dict:
    return {
        "$value": {
            "colorSpace": "srgb",
            "components": components(hex_value),
            "alpha": 1,
            "hex": hex_value,
        }
    }


def _scheme(colours: dict[str, str]) -> dict:
    group: dict = {"$type": "color"}
    for role in COLOUR_ROLES:
        group[role] = colour_token(colours[role])
    for role in ON_ROLES:
        group[f"on-{role}"] = colour_token(on_colour(colours[role]))
    return group


def build_tokens(snapshot: dict) -> dict:
    """``snapshot``: the brand's fields (colours as #rrggbb)."""
    light = {role: snapshot[role] for role in COLOUR_ROLES}
    doc: dict = {
        "$schema": SCHEMA,
        "color": _scheme(light),
        "component": {
            "$description": "Aliases the portal and apps use for their controls.",
            "button": {
                "background": {"$type": "color", "$value": "{color.primary}"},
                "text": {"$type": "color", "$value": "{color.on-primary}"},
            },
            "link": {"$type": "color", "$value": "{color.primary}"},
            "page": {
                "background": {"$type": "color", "$value": "{color.background}"},
                "text": {"$type": "color", "$value": "{color.text}"},
            },
            "card": {
                "background": {"$type": "color", "$value": "{color.surface}"},
                "text": {"$type": "color", "$value": "{color.text}"},
            },
        },
        "font": {"family": {"$type": "fontFamily", "$value": FONT_STACKS[snapshot["font"]]}},
        "radius": {
            "base": {
                "$type": "dimension",
                "$value": {"value": snapshot["corner_radius"], "unit": "px"},
            }
        },
        "spacing": {
            "base": {
                "$type": "dimension",
                "$value": {"value": DENSITY_SPACING[snapshot["density"]], "unit": "px"},
            }
        },
        "$extensions": {
            LAYOUT_EXTENSION: {
                "header_style": snapshot["header_style"],
                "class_list_layout": snapshot["class_list_layout"],
                "density": snapshot["density"],
                "logo": snapshot.get("logo_url") or None,
                "favicon": snapshot.get("favicon_url") or None,
            }
        },
    }
    if all(snapshot.get(f"dark_{role}") for role in COLOUR_ROLES):
        doc["color-dark"] = _scheme({role: snapshot[f"dark_{role}"] for role in COLOUR_ROLES})
    return doc


def colour_hex(tokens: dict, group: str = "color") -> dict[str, str]:
    """Role -> #rrggbb of a colour group (aliases are not used inside colour groups)."""
    return {
        name: token["$value"]["hex"]
        for name, token in tokens.get(group, {}).items()
        if not name.startswith("$")
    }
