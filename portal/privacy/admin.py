from django.contrib import admin, messages

from kernel.errors import ApplicationError

from .models import AuditEntry, DeletionRequest
from .services import family_deletion_complete


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: staff see who read medical details and who changed money or enrollments."""

    list_display = (
        "at", "actor_email", "actor_kind", "action", "object_type", "object_id", "family_id",
        "ip_address",
    )  # fmt: skip
    list_filter = ("action", "actor_kind", "object_type", "at")
    search_fields = ("actor_email", "object_id", "request_id", "=family_id")
    date_hierarchy = "at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DeletionRequest)
class DeletionRequestAdmin(admin.ModelAdmin):
    list_display = ("family", "status", "requested_at", "completed_at", "completed_by_email")
    list_filter = ("status",)
    readonly_fields = (
        "family", "status", "reason", "requested_at", "completed_at", "completed_by_email",
    )  # fmt: skip
    actions = ["complete"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description="Complete the selected requests (anonymise the families)",
        permissions=["change"],
    )
    def complete(self, request, queryset):
        done = 0
        for deletion in queryset.filter(status=DeletionRequest.Status.PENDING):
            try:
                family_deletion_complete(deletion_request_id=deletion.pk, by=request.user)
            except ApplicationError as exc:
                self.message_user(
                    request, f"Family {deletion.family_id}: {exc.message}", messages.ERROR
                )
            else:
                done += 1
        if done:
            self.message_user(request, f"Anonymised {done} families.", messages.SUCCESS)
