"""Everything derived from a published theme's tokens: CSS custom properties for the web
portal, and the files branded-app builds consume (Android colours, iOS colour sets, an Expo
app-config fragment)."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from .fonts import font_face_css
from .tokens import LAYOUT_EXTENSION, colour_hex


def css(tokens: dict, version: int) -> str:
    light = colour_hex(tokens)
    layout = tokens["$extensions"][LAYOUT_EXTENSION]
    lines = [f"/* Theme v{version}: generated from the published design tokens. */"]
    faces = font_face_css(tokens["font"]["family"]["$value"])
    if faces:
        lines.append(faces.rstrip("\n"))
    lines.append(":root {")
    lines += [f"  --color-{name}: {value};" for name, value in sorted(light.items())]
    font = ", ".join(f'"{f}"' if " " in f else f for f in tokens["font"]["family"]["$value"])
    radius = tokens["radius"]["base"]["$value"]
    spacing = tokens["spacing"]["base"]["$value"]
    lines += [
        f"  --font-family: {font};",
        f"  --radius: {radius['value']}{radius['unit']};",
        f"  --space: {spacing['value']}{spacing['unit']};",
        f"  --header-style: {layout['header_style']};",
        f"  --class-list-layout: {layout['class_list_layout']};",
        "}",
    ]
    if "color-dark" in tokens:
        dark = colour_hex(tokens, "color-dark")
        lines += ["@media (prefers-color-scheme: dark) {", "  :root {"]
        lines += [f"    --color-{name}: {value};" for name, value in sorted(dark.items())]
        lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def _android_name(name: str) -> str:
    return name.replace("-", "_")


def android_colors_xml(tokens: dict) -> str:
    """res/values/colors.xml with #AARRGGBB values (and values-night when there is a dark
    scheme: call with group="color-dark")."""
    return _android(colour_hex(tokens))


def android_night_colors_xml(tokens: dict) -> str | None:
    return _android(colour_hex(tokens, "color-dark")) if "color-dark" in tokens else None


def _android(colours: dict[str, str]) -> str:
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<resources>"]
    for name, value in sorted(colours.items()):
        lines.append(
            f'    <color name="brand_{escape(_android_name(name))}">#FF{value[1:].upper()}</color>'
        )
    lines.append("</resources>")
    return "\n".join(lines) + "\n"


def ios_colorsets(tokens: dict) -> dict[str, str]:
    """Asset-catalog colour sets: {"<name>.colorset/Contents.json": json}, sRGB components
    0..1, with a dark appearance when the theme has a dark scheme."""
    light = tokens["color"]
    dark = tokens.get("color-dark", {})
    out = {}
    for name, token in sorted(light.items()):
        if name.startswith("$"):
            continue
        entries = [_ios_entry(token, None)]
        if name in dark:
            entries.append(_ios_entry(dark[name], "dark"))
        contents = {"colors": entries, "info": {"author": "xcode", "version": 1}}
        out[f"Brand{_camel(name)}.colorset/Contents.json"] = json.dumps(contents, indent=2) + "\n"
    return out


def _ios_entry(token: dict, appearance: str | None) -> dict:
    r, g, b = token["$value"]["components"]
    entry = {
        "color": {
            "color-space": "srgb",
            "components": {
                "red": f"{r:.3f}",
                "green": f"{g:.3f}",
                "blue": f"{b:.3f}",
                "alpha": "1.000",
            },
        },
        "idiom": "universal",
    }
    if appearance:
        entry["appearances"] = [{"appearance": "luminosity", "value": appearance}]
    return entry


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def app_config(tokens: dict, version: int) -> dict:
    """An Expo app-config fragment: 6-digit hex colours (no alpha)."""
    light = colour_hex(tokens)
    fragment = {
        "themeVersion": version,
        "primaryColor": light["primary"],
        "backgroundColor": light["background"],
        "splash": {"backgroundColor": light["background"]},
        "android": {"adaptiveIcon": {"backgroundColor": light["primary"]}},
        "extra": {"theme": {"colors": light}},
    }
    if "color-dark" in tokens:
        fragment["extra"]["theme"]["darkColors"] = colour_hex(tokens, "color-dark")
    return fragment
