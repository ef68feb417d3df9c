"""Query parameters the schema limits to a set of values.

A parameter documented with an ``enum`` answers ``invalid_filter`` (400) for any other value,
an empty one too (``?status=``): the schema is the contract, and the API fuzzer's
``negative_data_rejection`` check holds us to it. An absent parameter takes its default. (The
console's forms, where a blank field means "any", call the selectors directly.)"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext as _

from kernel.errors import ApplicationError


def query_choice(
    params: Mapping[str, str], name: str, choices: Iterable[object], default: str = ""
) -> str:
    """``params[name]`` when it is one of ``choices`` (compared as text), ``default`` when it
    is absent; otherwise ``invalid_filter``."""
    allowed = [str(choice) for choice in choices]
    if name not in params:
        return default
    value = params.get(name)
    if value not in allowed:
        choices_text = ", ".join(allowed)
        raise ApplicationError(
            "invalid_filter",
            _("%(name)s is one of: %(choices)s.") % {"name": name, "choices": choices_text},
            fields={name: [_("Choose one of: %(choices)s.") % {"choices": choices_text}]},
        )
    return value
