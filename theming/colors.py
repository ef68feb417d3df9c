"""Colour checks with ColorAide: WCAG 2.x contrast, readable "on" colours, and the nearest
colour that passes when a pair fails."""

from __future__ import annotations

import re
from dataclasses import dataclass

from coloraide import Color

from kernel.errors import ApplicationError

HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
AA_TEXT = 4.5
AA_UI = 3.0
ON_CANDIDATES = ("#ffffff", "#111827", "#000000")


def parse_hex(value: object, field: str) -> str:
    """#rgb or #rrggbb -> lowercase #rrggbb; anything else is a 400 naming the field."""
    if not isinstance(value, str) or not HEX.match(value.strip()):
        message = f"“{value}” is not a colour; use #rrggbb."
        raise ApplicationError("invalid_colour", message, fields={field: [message]})
    value = value.strip().lower()
    if len(value) == 4:
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value


def contrast(foreground: str, background: str) -> float:
    return Color(foreground).contrast(Color(background), method="wcag21")


def on_colour(background: str) -> str:
    """Text colour for a background: the first candidate reaching AA for normal text. White or
    black always does (the better of the two is at least 4.58:1)."""
    best = max(ON_CANDIDATES, key=lambda c: contrast(c, background))
    for candidate in ON_CANDIDATES:
        if contrast(candidate, background) >= AA_TEXT:
            return candidate
    return best


def components(hex_value: str) -> list[float]:
    color = Color(hex_value).convert("srgb")
    return [round(color[channel], 4) for channel in ("red", "green", "blue")]


def suggest(foreground: str, background: str, target: float) -> str:
    """The colour nearest to ``foreground`` (same hue and chroma in OKLCh, lightness moved as
    little as possible) that reaches ``target`` against ``background``."""
    base = Color(foreground).convert("oklch")
    best: tuple[float, str] | None = None
    start = base["lightness"]
    for direction in (-1, 1):
        # Binary-search the smallest lightness step in this direction that passes.
        found = None
        lo, hi = 0.0, (start if direction < 0 else 1 - start)
        for _ in range(30):
            mid = (lo + hi) / 2
            candidate = base.clone().set("lightness", start + direction * mid)
            candidate.fit("srgb")
            hex_value = candidate.convert("srgb").to_string(hex=True)
            if contrast(hex_value, background) >= target:
                found, hi = hex_value, mid
            else:
                lo = mid
        if found is not None and (best is None or hi < best[0]):
            best = (hi, found)
    return (
        best[1] if best else ("#000000" if contrast("#000000", background) >= target else "#ffffff")
    )


@dataclass(frozen=True)
class ContrastFailure:
    pair: str
    foreground: str
    background: str
    ratio: float
    required: float
    suggestion: str

    def as_dict(self) -> dict:
        return {
            "pair": self.pair,
            "foreground": self.foreground,
            "background": self.background,
            "ratio": round(self.ratio, 2),
            "required": self.required,
            "suggestion": self.suggestion,
        }


def check_pairs(pairs: list[tuple[str, str, str, float]]) -> list[ContrastFailure]:
    """``pairs``: (name, foreground, background, required ratio)."""
    failures = []
    for name, foreground, background, required in pairs:
        ratio = contrast(foreground, background)
        if ratio < required:
            failures.append(
                ContrastFailure(
                    name,
                    foreground,
                    background,
                    ratio,
                    required,
                    suggest(foreground, background, required),
                )
            )
    return failures
