from django.contrib import admin, messages

from kernel.errors import ApplicationError
from portal.privacy.history_admin import HistoryLinkMixin

from . import services
from .models import Enrollment, Hold, WaitlistEntry


def _run(modeladmin, request, queryset, service, done: str) -> None:
    """Call a seat service once per selected row (each under its offering's lock), reporting
    refusals by row."""
    count = 0
    for obj in queryset:
        try:
            service(obj.pk)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            count += 1
    if count:
        modeladmin.message_user(request, done.format(count=count), messages.SUCCESS)


class NoDeleteMixin:
    """Deleting a seat-taking row would leave the offering's ``seats_taken`` counting a seat
    nobody holds: these models offer actions that call the services instead, and no delete
    (neither the delete view nor "delete selected")."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Hold)
class HoldAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Staff see every held seat and can release one (the seat goes back, or to the waitlist).
    The model's ``delete_hold`` permission is the right to release."""

    list_display = ("offering", "student", "family", "status", "created_at", "expires_at")
    list_filter = ("status", "offering__program", "offering")
    search_fields = ("student__first_name", "student__last_name", "family__name", "offering__name")
    list_select_related = ("offering", "student", "family")
    readonly_fields = [f.name for f in Hold._meta.fields]
    actions = ["release_holds"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_release_permission(self, request):
        return request.user.has_perm("portal_enrollment.delete_hold")

    @admin.action(description="Release the selected holds", permissions=["release"])
    def release_holds(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda pk: services.staff_hold_delete(hold_id=pk),
            "Released {count} hold(s).",
        )


@admin.register(Enrollment)
class EnrollmentAdmin(HistoryLinkMixin, NoDeleteMixin, admin.ModelAdmin):
    """Staff drop an active enrollment (the seat frees today) or cancel one pending approval;
    both recount the offering under its lock. Money (refunds, credits) is separate."""

    list_display = ("student", "offering", "status", "start_date", "end_date", "family")
    list_filter = ("status", "offering__program", "offering__kind", "offering")
    search_fields = ("student__first_name", "student__last_name", "family__name", "offering__name")
    list_select_related = ("student", "offering", "family")
    readonly_fields = (
        "family",
        "student",
        "offering",
        "order",
        "status",
        "start_date",
        "end_date",
        "transferred_from",
        "created_at",
        "updated_at",
        "history",
    )
    fields = (*readonly_fields, "staff_note")
    actions = ["drop_enrollments", "cancel_enrollments"]

    def has_add_permission(self, request):
        return False

    @admin.action(
        description="Drop the selected enrollments (the seat frees today)", permissions=["change"]
    )
    def drop_enrollments(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda pk: services.enrollment_staff_drop(enrollment_id=pk),
            "Dropped {count} enrollment(s).",
        )

    @admin.action(
        description="Cancel the selected enrollments pending approval", permissions=["change"]
    )
    def cancel_enrollments(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda pk: services.enrollment_staff_cancel(enrollment_id=pk),
            "Cancelled {count} enrollment(s).",
        )


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(HistoryLinkMixin, NoDeleteMixin, admin.ModelAdmin):
    """Staff reorder a list by editing priorities (lower goes first) and take students off it
    (an offered seat passes to the next family)."""

    list_display = (
        "offering",
        "priority",
        "student",
        "family",
        "status",
        "created_at",
        "offered_at",
    )
    list_editable = ("priority",)
    list_filter = ("status", "offering")
    search_fields = ("student__first_name", "student__last_name", "family__name", "offering__name")
    list_select_related = ("offering", "student", "family")
    ordering = ("offering", "priority", "created_at")
    readonly_fields = (
        "offering",
        "family",
        "student",
        "status",
        "hold",
        "created_at",
        "offered_at",
        "note",
        "history",
    )

    actions = ["remove_from_waitlist"]

    def has_add_permission(self, request):
        return False

    @admin.action(
        description="Take the selected students off the waitlist (withdraws an offer)",
        permissions=["change"],
    )
    def remove_from_waitlist(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda pk: services.waitlist_staff_remove(entry_id=pk),
            "Took {count} student(s) off the waitlist.",
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        try:
            services.waitlist_advance_for(offering_id=obj.offering_id)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.WARNING)
