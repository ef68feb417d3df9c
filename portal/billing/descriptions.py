"""Ledger and order-line descriptions in the reader's language.

The services store each description once, in English (staff, exports and Stripe read the same
row). A family reads it in its own language: ``description_display`` recognises the sentences
the services write (the patterns below, one per kind of line or entry) and words them again
with the catalog, names, amounts and months kept. Text it does not recognise (a staff member's
own wording) is shown as stored."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_MONTH = "(?P<month>" + "|".join(MONTHS) + ") (?P<year>[0-9]{4})"


def _month(match: re.Match[str]) -> str:
    when = date(int(match["year"]), MONTHS.index(match["month"]) + 1, 1)
    return date_format(when, "YEAR_MONTH_FORMAT")


def _parts(match: re.Match[str], **extra: str) -> dict[str, str]:
    values = {k: v for k, v in match.groupdict().items() if v is not None}
    values.update(extra)
    return values


# (pattern of the stored English, how to say it). Order matters: the first match wins.
_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"^(?P<what>.+), " + _MONTH + r"$"),
        lambda m: (
            _("%(what)s, %(month)s") % {"what": description_display(m["what"]), "month": _month(m)}
        ),
    ),
    (
        re.compile(r"^Registration fee (?P<years>[0-9]{4}-[0-9]{4}) — (?P<name>.+)$"),
        lambda m: _("Registration fee %(years)s — %(name)s") % _parts(m),
    ),
    (
        re.compile(r"^Registration fee (?P<years>[0-9]{4}-[0-9]{4})$"),
        lambda m: _("Registration fee %(years)s") % _parts(m),
    ),
    (
        re.compile(r"^Multi-class discount (?P<percent>[0-9]+)% — (?P<what>.+)$"),
        lambda m: _("Multi-class discount %(percent)s%% — %(what)s") % _parts(m),
    ),
    (
        re.compile(r"^Sibling discount (?P<percent>[0-9]+)% — (?P<name>.+)$"),
        lambda m: _("Sibling discount %(percent)s%% — %(name)s") % _parts(m),
    ),
    (
        re.compile(r"^Payment toward your account balance$"),
        lambda m: _("Payment toward your account balance"),
    ),
    (
        re.compile(r"^Gift certificate for (?P<name>.+)$"),
        lambda m: _("Gift certificate for %(name)s") % _parts(m),
    ),
    (
        re.compile(r"^Punch pass: (?P<name>.+)$"),
        lambda m: _("Punch pass: %(name)s") % _parts(m),
    ),
    (
        re.compile(r"^Drop of (?P<name>[^:]+): (?P<what>.+) \(prorated credit\)$"),
        lambda m: _("Drop of %(name)s: %(what)s (prorated credit)") % _parts(m),
    ),
    (
        re.compile(r"^(?P<what>.+) \(prorated credit\)$"),
        lambda m: _("%(what)s (prorated credit)") % {"what": description_display(m["what"])},
    ),
    (
        re.compile(r"^(?P<what>.+) \(prorated difference\)$"),
        lambda m: _("%(what)s (prorated difference)") % {"what": description_display(m["what"])},
    ),
    (
        re.compile(r"^Transfer of (?P<name>[^:]+): (?P<source>.+) to (?P<target>.+)$"),
        lambda m: _("Transfer of %(name)s: %(source)s to %(target)s") % _parts(m),
    ),
    (
        re.compile(r"^Card payment for order (?P<order>[0-9]+)$"),
        lambda m: _("Card payment for order %(order)s") % _parts(m),
    ),
    (
        re.compile(r"^Paid with account credit$"),
        lambda m: _("Paid with account credit"),
    ),
    (
        re.compile(r"^Account credit$"),
        lambda m: _("Account credit"),
    ),
    (
        re.compile(r"^Paid with gift certificate (?P<code>\S+)$"),
        lambda m: _("Paid with gift certificate %(code)s") % _parts(m),
    ),
    (
        re.compile(r"^Gift certificate (?P<code>…\S+)$"),
        lambda m: _("Gift certificate %(code)s") % _parts(m),
    ),
    (re.compile(r"^Refund$"), lambda m: pgettext("ledger entry", "Refund")),
    (
        re.compile(r"^Refund: (?P<reason>.+)$"),
        lambda m: _("Refund: %(reason)s") % _parts(m),
    ),
    (
        re.compile(r"^Autopay attempt (?P<attempt>[0-9]+) failed: (?P<reason>.+)$"),
        lambda m: _("Autopay attempt %(attempt)s failed: %(reason)s") % _parts(m),
    ),
    (
        re.compile(r"^Credit: (?P<what>.+) not approved$"),
        lambda m: _("Credit: %(what)s not approved") % _parts(m),
    ),
]


def description_display(stored: str) -> str:
    """The stored (English) description, worded in the active language."""
    for pattern, say in _PATTERNS:
        match = pattern.match(stored or "")
        if match:
            return say(match)
    return stored
