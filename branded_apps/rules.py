"""The App Store's and Google Play's rules, as pure functions (``../shared/DOMAIN.md``, "Custom
branded apps"). Each check returns problems; nothing here touches the database."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

NAME_MAX = 30
SUBTITLE_MAX = 30
KEYWORDS_MAX_BYTES = 100
KEYWORD_MIN_CHARS = 3  # "each keyword longer than 2 characters"
PROMO_MAX = 170
DESCRIPTION_MAX = 4000
PLAY_SHORT_MAX = 80
PLAY_FULL_MAX = 4000
# iOS bundle ids allow [A-Za-z0-9.-]; Android application ids need two or more segments, each
# starting with a letter, of [A-Za-z0-9_]. This form is valid on both, and we store one form.
APP_ID_RE = re.compile(r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)+$")
SCHEME_RE = re.compile(r"^[a-z][a-z0-9]{1,39}$")
VERSION_RE = re.compile(r"^\d{1,4}\.\d{1,4}\.\d{1,4}$")
LOCALE_RE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
# Java keywords cannot be a segment of an Android application id.
# fmt: off
JAVA_KEYWORDS = frozenset([
    "abstract", "assert", "boolean", "break", "byte", "case", "catch", "char", "class", "const",
    "continue", "default", "do", "double", "else", "enum", "extends", "final", "finally",
    "float", "for", "goto", "if", "implements", "import", "instanceof", "int", "interface",
    "long", "native", "new", "package", "private", "protected", "public", "return", "short",
    "static", "strictfp", "super", "switch", "synchronized", "this", "throw", "throws",
    "transient", "try", "void", "volatile", "while", "true", "false", "null",
])
# fmt: on
# The store text of one locale (AppListing's fields, fastlane's metadata files).
LISTING_FIELDS = (
    "name",
    "subtitle",
    "keywords",
    "promotional_text",
    "description",
    "play_short_description",
    "play_full_description",
    "release_notes",
)
HTML_RE = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")


@dataclass(frozen=True)
class Problem:
    code: str
    field: str
    message: str
    blocking: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


def fields_of(problems) -> dict[str, list[str]]:
    """``{"field": [messages]}`` of problems (``Problem`` objects or their dicts), the shape of
    ``ApplicationError.fields``."""
    fields: dict[str, list[str]] = {}
    for problem in problems:
        item = problem if isinstance(problem, dict) else problem.as_dict()
        fields.setdefault(item["field"], []).append(item["message"])
    return fields


def check_app_id(value: str, field: str) -> list[Problem]:
    if not value:
        return [Problem("app_id_missing", field, "Set the app identifier (e.g. com.acme.portal).")]
    if not APP_ID_RE.match(value):
        return [
            Problem(
                "app_id_invalid",
                field,
                "Use lowercase letters and digits in two or more dot-separated parts, each "
                "starting with a letter (e.g. com.acmegym.app); no “_” or “-”, which one of the "
                "two stores refuses.",
            )
        ]
    if len(value) > 155:
        return [Problem("app_id_invalid", field, "The identifier may be at most 155 characters.")]
    reserved = [part for part in value.split(".") if part in JAVA_KEYWORDS]
    if reserved:
        return [
            Problem(
                "app_id_invalid",
                field,
                f"“{reserved[0]}” is a reserved word and cannot be part of an Android id.",
            )
        ]
    return []


def check_text(value: str, field: str, limit: int, *, plain: bool = False) -> list[Problem]:
    problems = []
    if len(value) > limit:
        problems.append(
            Problem("text_too_long", field, f"At most {limit} characters (this has {len(value)}).")
        )
    if plain and HTML_RE.search(value):
        problems.append(Problem("text_not_plain", field, "Use plain text, without HTML tags."))
    return problems


def keyword_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def check_keywords(value: str, field: str = "keywords") -> list[Problem]:
    problems = []
    size = len(value.encode("utf-8"))
    if size > KEYWORDS_MAX_BYTES:
        problems.append(
            Problem(
                "keywords_too_long",
                field,
                f"Keywords may take at most {KEYWORDS_MAX_BYTES} bytes (these take {size}).",
            )
        )
    short = [word for word in keyword_list(value) if len(word) < KEYWORD_MIN_CHARS]
    if short:
        problems.append(
            Problem(
                "keyword_too_short",
                field,
                f"Each keyword needs more than 2 characters: {', '.join(short)}.",
            )
        )
    return problems


def check_https_url(value: str, field: str) -> list[Problem]:
    if not value:
        return []
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        return [Problem("url_not_https", field, "Use a full https:// address.")]
    return []


def check_scheme(value: str, field: str = "scheme") -> list[Problem]:
    if not SCHEME_RE.match(value or ""):
        return [
            Problem(
                "scheme_invalid",
                field,
                "Use 2-40 lowercase letters and digits, starting with a letter.",
            )
        ]
    return []


def check_version(value: str, field: str = "version") -> list[Problem]:
    if not VERSION_RE.match(value or ""):
        return [Problem("version_invalid", field, "Use a version like 1.0.0.")]
    return []


def check_locale(value: str, field: str = "locale") -> list[Problem]:
    if not LOCALE_RE.match(value or ""):
        return [Problem("locale_invalid", field, "Use a locale like en-US, es-MX or fr.")]
    return []


def check_listing(data: dict, prefix: str = "") -> list[Problem]:
    """Text limits of one locale's store listing (``data``: the AppListing fields)."""
    problems: list[Problem] = []
    problems += check_text(data.get("name", ""), prefix + "name", NAME_MAX)
    problems += check_text(data.get("subtitle", ""), prefix + "subtitle", SUBTITLE_MAX)
    problems += check_keywords(data.get("keywords", ""), prefix + "keywords")
    problems += check_text(data.get("promotional_text", ""), prefix + "promotional_text", PROMO_MAX)
    problems += check_text(
        data.get("description", ""), prefix + "description", DESCRIPTION_MAX, plain=True
    )
    problems += check_text(
        data.get("play_short_description", ""), prefix + "play_short_description", PLAY_SHORT_MAX
    )
    problems += check_text(
        data.get("play_full_description", ""),
        prefix + "play_full_description",
        PLAY_FULL_MAX,
        plain=True,
    )
    problems += check_text(data.get("release_notes", ""), prefix + "release_notes", 4000)
    return problems
