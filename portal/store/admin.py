from django.contrib import admin

from . import services
from .models import GiftCertificate, GiftCertificateUse


class UseInline(admin.TabularInline):
    model = GiftCertificateUse
    extra = 0
    can_delete = False
    readonly_fields = ("order", "amount", "status", "created_at")


@admin.register(GiftCertificate)
class GiftCertificateAdmin(admin.ModelAdmin):
    """Staff issue certificates here (the code is generated and emailed) and void them."""

    list_display = ("code", "recipient_name", "initial_amount", "balance", "status", "created_at")
    list_filter = ("status", "issued_by_staff")
    search_fields = ("code", "recipient_name", "recipient_email", "purchaser__name")
    fields = (
        "code",
        "status",
        "initial_amount",
        "balance",
        "currency",
        "recipient_name",
        "recipient_email",
        "message",
        "purchaser",
        "order",
        "issued_by_staff",
    )
    readonly_fields = (
        "code",
        "status",
        "balance",
        "currency",
        "purchaser",
        "order",
        "issued_by_staff",
    )
    inlines = [UseInline]
    actions = ["void"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = services.gift_certificate_issue(
            amount=form.cleaned_data["initial_amount"],
            recipient_name=form.cleaned_data["recipient_name"],
            recipient_email=form.cleaned_data["recipient_email"],
            message=form.cleaned_data.get("message", ""),
        )
        obj.pk = issued.pk

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (("initial_amount",) if obj else ())

    @admin.action(description="Void the selected gift certificates")
    def void(self, request, queryset):
        for certificate in queryset:
            services.gift_certificate_void(certificate_id=certificate.pk)
        self.message_user(request, f"Voided {queryset.count()} gift certificate(s).")
