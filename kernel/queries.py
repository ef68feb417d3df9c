"""Small query helpers for the hot paths."""

from __future__ import annotations

import re
from typing import TypeVar

from django.db.models import Model, QuerySet

T = TypeVar("T", bound=Model)


def by_key(qs: QuerySet[T]) -> T | None:
    """The row of a lookup by a unique key (a primary key, a unique column or constraint), or
    None. ``first()`` orders by the primary key to choose among rows; for a unique key there is
    nothing to choose, and Django compiles an ordering by hashing every selected column (a wide
    ``select_related`` has dozens): ~9 % of a hold's and a checkout's CPU in their profile
    (docs/rush.md, "Sixth pass"). So: no ``ORDER BY``, ``LIMIT 1``."""
    for row in qs.order_by()[:1]:
        return row
    return None


def sql_literals(values) -> str:
    """Choice values written into a fixed plain statement: ``'active', 'offer'``, for
    ``status IN (...)``. Only plain lowercase names (a model's choices), so nothing a person
    typed can ever be written into SQL here."""
    out = []
    for value in values:
        text = str(value)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", text):
            raise ValueError(f"not a plain choice value: {text!r}")
        out.append(f"'{text}'")
    return ", ".join(out)
