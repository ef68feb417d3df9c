"""Reads of the store that the family's pages need: certificates bought, one punch pass, the
offerings a pass can be used in."""

from __future__ import annotations

from django.db.models import QuerySet

from portal.accounts.models import Family
from portal.catalog.models import Offering
from portal.catalog.selectors import OfferingFilters, offering_search
from portal.enrollment.eligibility import offerings_for_student

from .models import GiftCertificate, PunchPass


def gift_certificates_bought(*, family: Family) -> QuerySet[GiftCertificate]:
    return GiftCertificate.objects.filter(purchaser=family)


def punch_pass_get(*, family: Family, pass_id: int) -> PunchPass | None:
    """One of the family's punch passes (any status), or None."""
    return (
        PunchPass.objects.select_related("product__program", "student")
        .filter(pk=pass_id, family=family)
        .first()
    )


def punch_pass_targets(*, punch: PunchPass, visible_kinds: list[str]) -> list[Offering]:
    """The offerings a visit of the pass can be booked in: the product's kind (and program),
    shown to families, not full (a visit to a full class is refused), at most 100; for a
    one-student pass only those the student may take."""
    filters = OfferingFilters(kinds=[punch.product.kind], has_openings=True)
    if punch.product.program_id:
        filters.program_ids = [punch.product.program_id]
    targets = list(offering_search(filters=filters, visible_kinds=visible_kinds)[:100])
    if punch.student is not None:  # a null foreign key reads as None without a query
        targets = offerings_for_student(punch.student, targets)
    return targets
