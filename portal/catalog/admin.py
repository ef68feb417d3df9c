from django.contrib import admin

from portal.config.admin_time import TenantZoneNoteMixin

from .models import (
    AvailabilitySlot,
    Level,
    Location,
    Offering,
    Program,
    RegistrationOpening,
    StaffProfile,
    Term,
)


class LevelInline(admin.TabularInline):
    model = Level
    extra = 0
    fields = ("position", "name", "description")


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "sort_order")
    list_filter = ("is_active",)
    search_fields = ("name",)
    inlines = [LevelInline]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("name", "city", "is_active")
    list_filter = ("is_active", "city")
    search_fields = ("name", "address", "city")


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    list_display = ("name", "program", "position")
    list_filter = ("program",)
    search_fields = ("name",)
    ordering = ("program__name", "position")


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ("name", "start_date", "end_date")
    search_fields = ("name",)
    date_hierarchy = "start_date"


class AvailabilityInline(admin.TabularInline):
    model = AvailabilitySlot
    extra = 0


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ("display_name", "title", "is_active", "sort_order")
    list_filter = ("is_active",)
    search_fields = ("display_name", "title", "bio")
    raw_id_fields = ("user",)
    inlines = [AvailabilityInline]


@admin.register(Offering)
class OfferingAdmin(TenantZoneNoteMixin, admin.ModelAdmin):
    zone_note_fieldsets = ("Price and registration",)
    list_display = (
        "name",
        "kind",
        "program",
        "location",
        "start_date",
        "start_time",
        "capacity",
        "seats_taken",
        "waitlist_count",
        "status",
    )
    list_filter = ("status", "kind", "program", "location", "term", "gender", "instructors")
    search_fields = ("name", "description", "program__name", "location__name")
    date_hierarchy = "start_date"
    filter_horizontal = ("levels", "instructors")
    list_select_related = ("program", "location")
    readonly_fields = ("seats_taken", "waitlist_count", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("kind", "status", "name", "description", "program", "location",
                           "term")}),
        ("Schedule", {"fields": ("start_date", "end_date", "weekdays", "start_time", "end_time",
                                 "camp_selection")}),
        ("Who may join", {"fields": ("capacity", "min_age", "max_age", "gender", "levels")}),
        ("Staff", {"fields": ("instructors",)}),
        ("Price and registration", {"fields": ("tuition", "camp_unit_price", "tuition_billing",
                                               "registration_fee",
                                               "deposit", "registration_mode",
                                               "registration_opens_at", "registration_closes_at")}),
        ("Availability", {"fields": ("seats_taken", "waitlist_count", "created_at", "updated_at")}),
    )  # fmt: skip

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "capacity" in form.changed_data:
            from portal.enrollment.services import offering_seats_changed

            offering_seats_changed(offering_id=obj.pk)


@admin.register(RegistrationOpening)
class RegistrationOpeningAdmin(TenantZoneNoteMixin, admin.ModelAdmin):
    """Staff schedule an opening here (times in the business's zone); they watch the queue and
    pause it through ``/api/v1/staff/openings/<id>/queue`` and ``.../pause``."""

    list_display = ("name", "opens_at", "ends_at", "admit_per_minute", "pass_minutes", "paused")
    filter_horizontal = ("offerings",)
    readonly_fields = ("paused",)
    zone_note_fieldsets = (None,)
