from django.contrib import admin

from kernel.staff_permissions import perm
from portal.orders.models import OrderTender

from . import services
from .models import GiftCertificate, PunchPass, PunchPassProduct, PunchRedemption


class TenderInline(admin.TabularInline):
    """What the certificate paid: one tender per order it was used on."""

    model = OrderTender
    fields = ("order", "amount", "status", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


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
    inlines = [TenderInline]
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

    def has_refund_payment_permission(self, request):
        return request.user.has_perm(perm("refund_payment"))

    @admin.action(description="Void the selected gift certificates", permissions=["refund_payment"])
    def void(self, request, queryset):
        for certificate in queryset:
            services.gift_certificate_void(certificate_id=certificate.pk)
        self.message_user(request, f"Voided {queryset.count()} gift certificate(s).")


# --- punch passes ----------------------------------------------------------------------------


@admin.register(PunchPassProduct)
class PunchPassProductAdmin(admin.ModelAdmin):
    """What the business sells: N visits, a price and how long a pass lasts once paid."""

    list_display = (
        "name",
        "visits",
        "price",
        "valid_days",
        "scope",
        "kind",
        "program",
        "is_active",
    )
    list_filter = ("is_active", "scope", "kind", "program")
    search_fields = ("name", "description")
    list_editable = ("is_active",)
    fields = (
        "name",
        "description",
        "visits",
        "price",
        "valid_days",
        "scope",
        "kind",
        "program",
        "is_active",
        "sort_order",
    )


class RedemptionInline(admin.TabularInline):
    model = PunchRedemption
    extra = 0
    can_delete = False
    fields = ("meeting_date", "offering", "student", "enrollment", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PunchPass)
class PunchPassAdmin(admin.ModelAdmin):
    """Families' passes. Visits are used from the portal; staff may void a pass."""

    list_display = (
        "pk",
        "product",
        "family",
        "student",
        "visits_left",
        "visits_total",
        "expires_on",
        "status",
        "created_at",
    )
    list_filter = ("status", "product")
    search_fields = (
        "product__name",
        "family__name",
        "student__first_name",
        "student__last_name",
        "family__guardians__email",
    )
    list_select_related = ("product", "family", "student")
    readonly_fields = (
        "product",
        "family",
        "student",
        "visits_total",
        "visits_left",
        "status",
        "order",
        "created_at",
        "activated_at",
        "voided_at",
    )
    fields = (
        "product",
        "family",
        "student",
        "visits_total",
        "visits_left",
        "expires_on",
        "status",
        "order",
        "created_at",
        "activated_at",
        "voided_at",
    )
    inlines = [RedemptionInline]
    actions = ["void"]

    def has_add_permission(self, request) -> bool:
        return False  # families buy passes through an order

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_refund_payment_permission(self, request):
        return request.user.has_perm(perm("refund_payment"))

    @admin.action(description="Void the selected punch passes", permissions=["refund_payment"])
    def void(self, request, queryset):
        count = 0
        for punch in queryset:
            services.punch_pass_void(pass_id=punch.pk)
            count += 1
        self.message_user(request, f"Voided {count} punch pass(es).")
