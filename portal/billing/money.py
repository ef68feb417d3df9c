"""Amounts as people type and read them ("12.50") and as we store them (1250 minor units).

Staff never type cents: every delivery parses what they enter with :func:`amount_parse` and
shows amounts with :func:`amount_format`, so the API, the console and the CSV exports agree."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from kernel.errors import ApplicationError

# ISO 4217 currencies whose minor unit is not the hundredth (Stripe's list); the others have 2.
_EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "JPY",
            "KMF",
            "KRW",
            "MGA",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "JOD", "KWD", "OMR", "TND"], 3),
}
# One amount a business may post at once: 1,000,000.00 in a two-decimal currency. A larger
# figure is a typo (or an attack on an integer column), never a class fee.
MAX_MINOR = 100_000_000
_SHAPE = re.compile(r"^\d{1,12}(\.\d{1,3})?$")


def exponent(currency: str) -> int:
    return _EXPONENTS.get((currency or "").upper(), 2)


def amount_parse(raw, *, currency: str, field: str = "amount") -> int:
    """``"12.50"`` -> ``1250``: a positive decimal in the currency, with at most as many decimals
    as the currency has. Refuses anything else with ``invalid_amount`` naming ``field``."""
    places = exponent(currency)
    text = raw.strip() if isinstance(raw, str) else ""
    if isinstance(raw, int | Decimal) and not isinstance(raw, bool):
        text = str(raw)
    shown = text[:30]

    def refuse(message: str) -> ApplicationError:
        return ApplicationError("invalid_amount", message, fields={field: [message]})

    if not _SHAPE.match(text):
        raise refuse(f"“{shown}” is not an amount; write it like 12.50.")
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already refused it
        raise refuse(f"“{shown}” is not an amount; write it like 12.50.") from None
    if -value.as_tuple().exponent > places:
        raise refuse(f"{currency} amounts have at most {places} decimals.")
    minor = int(value.scaleb(places))
    if minor <= 0:
        raise refuse("The amount must be more than zero.")
    if minor > MAX_MINOR:
        raise refuse(f"At most {amount_format(MAX_MINOR, currency=currency)} at once.")
    return minor


def amount_format(minor: int, *, currency: str) -> str:
    """``1250`` -> ``"12.50"`` (``-1250`` -> ``"-12.50"``), exact, no currency sign."""
    places = exponent(currency)
    value = Decimal(int(minor)).scaleb(-places)
    return f"{value:.{places}f}"
