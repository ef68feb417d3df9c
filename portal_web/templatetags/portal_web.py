"""Template helpers of the family portal: money in minor units, ISO dates from API-shaped data,
weekday codes, and dictionary look-ups for per-field errors."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

register = template.Library()

SYMBOLS = {
    "USD": "$", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "EUR": "€", "GBP": "£", "MXN": "MX$",
}  # fmt: skip
DAY_NAMES = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}


@register.filter
def money(amount, currency="USD"):
    """12345, "USD" -> "$123.45" (minor units; negative amounts keep their sign)."""
    if amount in (None, ""):
        return ""
    amount = int(amount)
    sign = "-" if amount < 0 else ""
    whole = number_format(abs(amount) / 100, decimal_pos=2, use_l10n=True, force_grouping=True)
    symbol = SYMBOLS.get(str(currency).upper())
    return f"{sign}{symbol}{whole}" if symbol else f"{sign}{whole} {currency}"


@register.filter
def negate(amount):
    """A payment shown against a total: 2500 -> -2500."""
    return -int(amount or 0)


@register.filter
def get(mapping, key):
    if not mapping:
        return None
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def as_date(value):
    if isinstance(value, (date, datetime)) or not value:
        return value
    return parse_date(str(value)) or parse_datetime(str(value))


@register.filter
def day_name(code):
    """A weekday code ("mon") or index (0 = Monday) -> its translated name."""
    if isinstance(code, int) and 0 <= code < 7:
        code = list(DAY_NAMES)[code]
    return DAY_NAMES.get(str(code), code)


@register.simple_tag
def field_ids(name, errors, hint=False):
    """The ``aria-describedby`` value of a field: its hint and its error message ids."""
    ids = []
    if hint:
        ids.append(f"{name}-hint")
    if errors and errors.get(name):
        ids.append(f"{name}-error")
    return " ".join(ids)


@register.filter
def minutes(seconds):
    """Seconds -> whole minutes, rounded up (a hold with 61 seconds left has 2 minutes)."""
    try:
        return max(-(-int(seconds) // 60), 0)
    except (TypeError, ValueError):
        return 0


@register.filter
def student_photo(student) -> str:
    """A signed, short-lived link to the student's photo ("" when none): only on pages that
    already show the family its own students."""
    from portal.accounts.photos import student_photo_url

    return student_photo_url(student)


@register.filter
def described(stored):
    """An order line's or ledger entry's stored description, in the reader's language."""
    from portal.billing.descriptions import description_display

    return description_display(str(stored or ""))
