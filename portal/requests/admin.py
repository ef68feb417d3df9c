from django.contrib import admin, messages

from kernel.errors import ApplicationError
from kernel.staff_permissions import perm

from . import services
from .models import MakeupToken, Request


@admin.register(Request)
class RequestAdmin(admin.ModelAdmin):
    list_display = (
        "type",
        "student",
        "status",
        "meeting_date",
        "target_offering",
        "effective_date",
        "price_difference",
        "created_at",
    )
    list_filter = ("status", "type")
    search_fields = ("student__first_name", "student__last_name", "family__name", "reason")
    list_select_related = ("student", "target_offering")
    readonly_fields = (
        "type",
        "status",
        "family",
        "student",
        "enrollment",
        "meeting_date",
        "target_offering",
        "makeup_token",
        "issued_token",
        "effective_date",
        "price_difference",
        "reason",
        "decided_by",
        "decided_at",
        "created_at",
    )
    fields = (*readonly_fields, "staff_note")
    actions = ["approve", "deny"]

    def has_add_permission(self, request):
        return False

    def has_decide_request_permission(self, request):
        return request.user.has_perm(perm("decide_request"))

    @admin.action(
        description="Approve the selected requests (the note is sent to the family)",
        permissions=["decide_request"],
    )
    def approve(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(
        description="Deny the selected requests (the note is sent to the family)",
        permissions=["decide_request"],
    )
    def deny(self, request, queryset):
        self._decide(request, queryset, False)

    def _decide(self, request, queryset, approve):
        for req in queryset:
            try:
                services.request_decide(
                    request_id=req.pk, approve=approve, note=req.staff_note, by=request.user
                )
            except ApplicationError as exc:
                self.message_user(request, f"{req}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{req}: {'approved' if approve else 'denied'}.")


@admin.register(MakeupToken)
class MakeupTokenAdmin(admin.ModelAdmin):
    list_display = ("student", "program", "kind", "status", "expires_on")
    list_filter = ("status", "program")
    search_fields = ("student__first_name", "student__last_name", "family__name")
