from django.contrib import admin, messages

from saas_platform.errors import ApplicationError

from . import services
from .models import Enrollment, Hold, WaitlistEntry


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
    """Staff see every held seat and can release one (the seat goes back, or to the waitlist)."""

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

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("portal_enrollment.delete_hold")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleting rows would skip the seat recount
        return actions

    @admin.action(description="Release the selected holds", permissions=["delete"])
    def release_holds(self, request, queryset):
        for hold in queryset:
            services.staff_hold_delete(hold_id=hold.pk)
        self.message_user(request, f"Released {queryset.count()} hold(s).", messages.SUCCESS)

    def delete_model(self, request, obj):
        services.staff_hold_delete(hold_id=obj.pk)


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
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
    )
    fields = (*readonly_fields, "staff_note")

    def has_add_permission(self, request):
        return False


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    """Staff reorder a list by editing priorities (lower goes first)."""

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
    )

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        try:
            services.waitlist_advance_for(offering_id=obj.offering_id)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.WARNING)
