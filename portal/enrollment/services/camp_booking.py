"""How a camp is booked (whole, per day or per week) and the price of one day or week: staff
change them through the staff API (the console has no offering editor yet; the Django admin
edits the same fields)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from kernel.errors import ApplicationError
from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.privacy.audit import audit_record

from ..models import Enrollment, Hold
from .seats import lock_offerings, recount


def camp_booking_change(
    *, offering_id: int, camp_selection: str | None = None, camp_unit_price: int | None = None
) -> Offering:
    """Change how an offering is booked and its unit price, under the offering's lock (seats
    are counted by these). ``offering_not_found`` (404); ``invalid_input`` with ``fields`` for a
    value the model refuses (per day on a class, a negative price), nothing changed;
    ``camp_selection_locked`` (409) when the way it is booked would change while families hold
    or have seats in it (their days would no longer mean what they bought). Audited."""
    with transaction.atomic():
        locked = lock_offerings([offering_id])
        offering = locked.get(offering_id)
        if offering is None:
            raise ApplicationError(
                "offering_not_found", "We could not find that class.", status=404
            )
        before = {"camp_selection": offering.camp_selection, "price": offering.camp_unit_price}
        if camp_selection is not None and camp_selection != offering.camp_selection:
            live = (
                Hold.objects.filter(offering=offering, status__in=Hold.SEAT_TAKING).exists()
                or Enrollment.objects.filter(offering=offering, status__in=Enrollment.LIVE).exists()
            )
            if live:
                raise ApplicationError(
                    "camp_selection_locked",
                    "Families already hold or have seats in this camp: how it is booked cannot "
                    "change now.",
                    status=409,
                )
            offering.camp_selection = camp_selection
        if camp_unit_price is not None:
            offering.camp_unit_price = camp_unit_price
        try:
            offering.full_clean()
        except ValidationError as exc:
            fields = {name: [str(m) for m in msgs] for name, msgs in exc.message_dict.items()}
            first = next(iter(fields.values()))[0]
            raise ApplicationError("invalid_input", first, fields=fields) from exc
        offering.save(update_fields=["camp_selection", "camp_unit_price", "updated_at"])
        recount(offering, portal_settings_get())
        audit_record(
            action="camp_booking_change",
            obj=offering,
            fields={
                "camp_selection": [before["camp_selection"], offering.camp_selection],
                "camp_unit_price": [before["price"], offering.camp_unit_price],
            },
        )
    return offering
