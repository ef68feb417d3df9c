"""Dates, times and lists inside the services' refusal messages, in the active language's own
format ("Jan. 5, 2027" in English, "5 de enero de 2027" in Spanish), never ISO and never a
hard-coded English pattern: a refusal is read by a family, in its language."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format, number_format, time_format
from django.utils.translation import gettext as _


def day(value: date) -> str:
    """A date with its year."""
    return date_format(value, "DATE_FORMAT")


def day_of_year(value: date) -> str:
    """A date without the year (a meeting this season)."""
    return date_format(value, "MONTH_DAY_FORMAT")


def moment(value: datetime) -> str:
    """An instant, in the business's time zone (the active one during a tenant's request)."""
    local = timezone.localtime(value)
    return _("%(date)s at %(time)s") % {
        "date": date_format(local, "DATE_FORMAT"),
        "time": time_format(local, "TIME_FORMAT"),
    }


def listing(items: Iterable[str]) -> str:
    return ", ".join(items)


def number(value: int) -> str:
    """A whole number grouped the language's way (1,000 / 1.000)."""
    return number_format(value, force_grouping=True)


def money(amount: int, currency: str) -> str:
    """Minor units shown in the currency, grouped the language's way ("1,250.00 USD")."""
    value = Decimal(amount).scaleb(-2)
    return f"{number_format(value, decimal_pos=2, force_grouping=True)} {currency}"


def sentence(text: str) -> str:
    """A sentence whose last value ends with its own period ("8 a.m.") keeps only one."""
    return text[:-1] if text.endswith("..") else text
