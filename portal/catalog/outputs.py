"""Output shapes of the catalog (an offering, its availability, the staff), applying the
portal's visibility switches: the API renders them as JSON, the web portal and the website
widget draw the same dicts, so every delivery shows what the business lets it show. Query
parsing is ``portal.catalog.filters``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kernel.storage import media_absolute_url
from portal.catalog.models import WEEKDAY_CODES, Offering, StaffProfile


class RefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LevelOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    program_id = serializers.IntegerField(allow_null=True)


class InstructorRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class ScheduleOutput(serializers.Serializer):
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    days = serializers.ListField(child=serializers.ChoiceField(choices=WEEKDAY_CODES))
    start_time = serializers.TimeField(format="%H:%M")
    end_time = serializers.TimeField(format="%H:%M")


class MoneyOutput(serializers.Serializer):
    tuition = serializers.IntegerField(help_text="Minor units (cents).")
    registration_fee = serializers.IntegerField(help_text="Minor units (cents).")
    deposit = serializers.IntegerField(help_text="Due at registration, minor units (cents).")
    tuition_billing = serializers.ChoiceField(
        choices=["term", "monthly"],
        help_text="`monthly`: `tuition` is per month (the first at checkout, then autopay on the "
        "business's billing day); `term`: once, at registration.",
    )
    currency = serializers.CharField()


class AvailabilityOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["OPEN", "FULL"])
    openings = serializers.IntegerField(
        allow_null=True, help_text="Null when the business shows only FULL / OPEN."
    )
    waitlist = serializers.IntegerField()


class AgesOutput(serializers.Serializer):
    min = serializers.IntegerField(allow_null=True)
    max = serializers.IntegerField(allow_null=True)


def availability(offering: Offering, portal, cached=None) -> dict:
    """``cached``: the offering's ``portal.catalog.availability.Availability`` from Redis, if
    the view looked it up; else the counters on the row."""
    source = cached if cached is not None else offering
    return {
        "status": "FULL" if source.is_full else "OPEN",
        "openings": source.openings if portal.openings_display == "numbers" else None,
        "waitlist": source.waitlist_count,
    }


class OfferingOutput(serializers.Serializer):
    """One search result. Context: ``portal`` (settings), ``currency`` and optionally
    ``availability`` (offering id -> cached availability)."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    program = RefOutput()
    location = RefOutput(allow_null=True)
    term = RefOutput(allow_null=True)
    levels = serializers.SerializerMethodField()
    instructors = serializers.SerializerMethodField()
    schedule = serializers.SerializerMethodField()
    ages = serializers.SerializerMethodField()
    gender = serializers.CharField()
    price = serializers.SerializerMethodField()
    availability = serializers.SerializerMethodField()

    @extend_schema_field(LevelOutput(many=True))
    def get_levels(self, offering) -> list[dict]:
        if not self.context["portal"].show_levels:
            return []
        return list(LevelOutput(offering.levels.all(), many=True).data)

    @extend_schema_field(InstructorRefOutput(many=True))
    def get_instructors(self, offering) -> list[dict]:
        return list(InstructorRefOutput(offering.instructors.all(), many=True).data)

    @extend_schema_field(ScheduleOutput)
    def get_schedule(self, offering) -> dict:
        return ScheduleOutput(
            {
                "start_date": offering.start_date,
                "end_date": offering.end_date,
                "days": [WEEKDAY_CODES[d] for d in offering.weekdays],
                "start_time": offering.start_time,
                "end_time": offering.end_time,
            }
        ).data

    @extend_schema_field(AgesOutput)
    def get_ages(self, offering) -> dict:
        return {"min": offering.min_age, "max": offering.max_age}

    @extend_schema_field(MoneyOutput)
    def get_price(self, offering) -> dict:
        return {
            "tuition": offering.tuition,
            "registration_fee": offering.registration_fee,
            "deposit": offering.deposit,
            "tuition_billing": offering.tuition_billing,
            "currency": self.context["currency"],
        }

    @extend_schema_field(AvailabilityOutput)
    def get_availability(self, offering) -> dict:
        cached = self.context.get("availability", {}).get(offering.pk)
        return availability(offering, self.context["portal"], cached)

    def to_representation(self, offering) -> dict:
        """The same document the declared fields describe, built without a nested serializer
        per row: search pages of 50 spent three quarters of their time instantiating them
        (pyinstrument; docs/rush.md)."""
        if type(self) is not OfferingOutput:
            return super().to_representation(offering)
        portal = self.context["portal"]
        return {
            "id": offering.pk,
            "kind": str(offering.kind),
            "name": str(offering.name),
            "program": _ref(offering.program),
            "location": _ref(offering.location),
            "term": _ref(offering.term),
            "levels": [
                {
                    "id": level.pk,
                    "name": str(level.name),
                    "position": level.position,
                    "program_id": level.program_id,
                }
                for level in offering.levels.all()
            ]
            if portal.show_levels
            else [],
            "instructors": [
                {"id": staff.pk, "display_name": str(staff.display_name)}
                for staff in offering.instructors.all()
            ],
            "schedule": {
                "start_date": offering.start_date.isoformat(),
                "end_date": offering.end_date.isoformat(),
                "days": [WEEKDAY_CODES[d] for d in offering.weekdays],
                "start_time": offering.start_time.strftime("%H:%M"),
                "end_time": offering.end_time.strftime("%H:%M"),
            },
            "ages": {"min": offering.min_age, "max": offering.max_age},
            "gender": str(offering.gender),
            "price": self.get_price(offering),
            "availability": self.get_availability(offering),
        }


def _ref(obj) -> dict | None:
    return None if obj is None else {"id": obj.pk, "name": str(obj.name)}


class StaffAvailabilityOutput(serializers.Serializer):
    day = serializers.ChoiceField(choices=list(WEEKDAY_CODES))
    start_time = serializers.CharField(help_text="HH:MM in the business's time zone.")
    end_time = serializers.CharField(help_text="HH:MM in the business's time zone.")
    location = serializers.CharField(allow_null=True)
    note = serializers.CharField()


class StaffOutput(serializers.Serializer):
    """Context: ``portal``; bios, photos and availability follow its visibility switches."""

    id = serializers.IntegerField()
    display_name = serializers.CharField()
    title = serializers.CharField()
    bio = serializers.SerializerMethodField()
    photo_url = serializers.SerializerMethodField()
    availability = serializers.SerializerMethodField()

    def get_bio(self, staff: StaffProfile) -> str | None:
        return staff.bio if self.context["portal"].staff_bios_visible else None

    def get_photo_url(self, staff: StaffProfile) -> str | None:
        if not self.context["portal"].staff_bios_visible or not staff.photo.name:
            return None
        return media_absolute_url(staff.photo.name)

    @extend_schema_field(
        StaffAvailabilityOutput(many=True, allow_null=True, help_text="Null when hidden.")
    )
    def get_availability(self, staff: StaffProfile) -> list[dict] | None:
        if not self.context["portal"].staff_availability_visible:
            return None
        return [
            {
                "day": WEEKDAY_CODES[slot.weekday],
                "start_time": slot.start_time.strftime("%H:%M"),
                "end_time": slot.end_time.strftime("%H:%M"),
                "location": slot.location.name if slot.location else None,
                "note": slot.note,
            }
            for slot in staff.availability.all()
        ]


class CampChoiceOutput(serializers.Serializer):
    """A day (or a week) of a camp booked by the day (or week) that a family may choose."""

    start = serializers.DateField(help_text="The day, or the week's first day: send it in `days`.")
    end = serializers.DateField(help_text="The same day, or the week's last day.")
    days = serializers.ListField(
        child=serializers.DateField(), help_text="The meeting days it covers."
    )
    price = serializers.IntegerField(help_text="Minor units (cents), in `price.currency`.")
    status = serializers.ChoiceField(choices=["OPEN", "FULL"])
    seats_left = serializers.IntegerField(
        allow_null=True,
        help_text="Seats left on its fullest day; null when the business shows only FULL / OPEN.",
    )


def camp_choice(unit, portal) -> dict:
    """One ``portal.enrollment.camp_days.Unit`` as the API and the offering's page show it."""
    return {
        "start": unit.start.isoformat(),
        "end": unit.end.isoformat(),
        "days": [day.isoformat() for day in unit.days],
        "price": unit.price,
        "status": "FULL" if unit.seats_left <= 0 else "OPEN",
        "seats_left": unit.seats_left if portal.openings_display == "numbers" else None,
    }


class OfferingDetailOutput(OfferingOutput):
    """Context as ``OfferingOutput``, plus ``camp_choices``: the units of a camp booked by the
    day or week (``portal.enrollment.selectors.camp_choices``)."""

    description = serializers.CharField()
    registration_mode = serializers.SerializerMethodField()
    camp_selection = serializers.ChoiceField(
        choices=["whole", "day", "week"],
        help_text="Camps: `whole` (one seat for the whole camp, `price.tuition`), `day` or "
        "`week` (the family chooses days or weeks from `camp_choices`, each at "
        "`camp_unit_price`; send them as `days` when adding to the cart).",
    )
    camp_unit_price = serializers.SerializerMethodField(
        help_text="Minor units: the price of one day (`day`) or one week (`week`); null for an "
        "offering booked as a whole."
    )
    camp_choices = serializers.SerializerMethodField(
        help_text="The days (or weeks) still to book, with price and seats; empty unless "
        "`camp_selection` is `day` or `week`."
    )
    registration_opens_at = serializers.DateTimeField(allow_null=True)
    registration_closes_at = serializers.DateTimeField(allow_null=True)
    meetings = serializers.SerializerMethodField()
    instructors = serializers.SerializerMethodField()

    def get_registration_mode(self, offering) -> str:
        return offering.registration_mode or self.context["portal"].registration_mode

    def get_camp_unit_price(self, offering) -> int | None:
        return offering.camp_unit_price if offering.days_selectable else None

    @extend_schema_field(CampChoiceOutput(many=True))
    def get_camp_choices(self, offering) -> list[dict]:
        portal = self.context["portal"]
        return [camp_choice(unit, portal) for unit in self.context.get("camp_choices", [])]

    def get_meetings(self, offering) -> list[str]:
        return [day.isoformat() for day in offering.meetings()]

    @extend_schema_field(StaffOutput(many=True))
    def get_instructors(self, offering) -> list[dict]:
        return list(StaffOutput(offering.instructors.all(), many=True, context=self.context).data)
