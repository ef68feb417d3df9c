"""Staff API for how a camp is booked (``/api/v1/staff/offerings/{id}/camp-booking``): whole,
per day or per week, and the price of one day or week, in minor units of the business's
currency. Written through ``portal.enrollment.services.camp_booking_change``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from kernel.errors import ApplicationError
from portal.catalog.models import Offering
from portal.enrollment import selectors, services

from .base import PortalApi


class CampBookingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Offering.Kind.values)
    camp_selection = serializers.ChoiceField(choices=Offering.CampSelection.values)
    camp_unit_price = serializers.IntegerField(
        help_text="Minor units: one day (`day`) or one week (`week`)."
    )
    tuition = serializers.IntegerField(help_text="Minor units: the whole camp (`whole`).")
    currency = serializers.CharField()


class StaffCampBookingApi(PortalApi):
    permission_classes = [staff_permission("manage_settings")]

    class Input(serializers.Serializer):
        camp_selection = serializers.ChoiceField(
            choices=Offering.CampSelection.values,
            required=False,
            help_text="`whole`, `day` or `week`; only a camp may be booked per day or week.",
        )
        camp_unit_price = serializers.IntegerField(
            min_value=0,
            max_value=100_000_000,
            required=False,
            help_text="Minor units: the price of one day or one week.",
        )

    def _offering(self, offering_id: int) -> Offering:
        offering = selectors.camp_booking_get(offering_id)
        if offering is None:
            raise ApplicationError(
                "offering_not_found", "We could not find that class.", status=404
            )
        return offering

    def _answer(self, offering: Offering) -> dict:
        return {
            "id": offering.pk,
            "name": offering.name,
            "kind": offering.kind,
            "camp_selection": offering.camp_selection,
            "camp_unit_price": offering.camp_unit_price,
            "tuition": offering.tuition,
            "currency": self.tenant.currency,
        }

    @extend_schema(
        operation_id="staff_camp_booking",
        responses=CampBookingOutput,
        description="How an offering is booked and the price of one day or week. "
        "`offering_not_found` (404).",
    )
    def get(self, request, offering_id: int):
        return Response(CampBookingOutput(self._answer(self._offering(offering_id))).data)

    @extend_schema(
        operation_id="staff_camp_booking_update",
        request=Input,
        responses=CampBookingOutput,
        description="Book a camp whole, per day or per week, and price one day or week. "
        "`invalid_input` (400, `fields`; e.g. per day on a class), `offering_not_found` (404), "
        "`camp_selection_locked` (409: families already hold or have seats in it; the price "
        "may still change). Audited (`camp_booking_change`).",
    )
    def patch(self, request, offering_id: int):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        offering = services.camp_booking_change(offering_id=offering_id, **data.validated_data)
        return Response(CampBookingOutput(self._answer(offering)).data)
