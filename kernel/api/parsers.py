"""The API's JSON parser: refuses what would become a 500 further in (see
``saas_platform.input_guard``): JSON nested deeper than ``MAX_JSON_DEPTH`` (checked on the raw
bytes, before parsing), NUL characters and lone surrogates in any string or key, and the
non-standard constants NaN and Infinity. Each is ``400 malformed_request``."""

from __future__ import annotations

import json
import re
from itertools import accumulate

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw`` (strings skipped)."""
    brackets = _STRINGS.sub(b"", raw).translate(None, _BRACKETS)
    if not brackets:
        return 0
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def _constant(name: str):
    raise ParseError(f"JSON does not allow {name}.")


def _check(value, depth: int = 0) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ParseError("A string contains a NUL character, which no field may hold.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("A string contains a lone surrogate (invalid Unicode).") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, depth + 1)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


class SafeJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        limit = int(getattr(settings, "API_MAX_JSON_DEPTH", MAX_JSON_DEPTH))
        if json_depth(raw) > limit:
            raise ParseError(f"JSON nested deeper than {limit} levels is not accepted.")
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise ParseError("JSON nested too deeply.") from None
        _check(data)
        return data
