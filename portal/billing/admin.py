from django.contrib import admin, messages

from kernel.errors import ApplicationError
from kernel.staff_permissions import perm
from portal.privacy.history_admin import HistoryLinkMixin

from . import services
from .models import AutopayCharge, LedgerEntry, Payment, StripeEvent


@admin.register(Payment)
class PaymentAdmin(HistoryLinkMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "family",
        "order",
        "amount",
        "amount_refunded",
        "status",
        "disputed",
        "created_at",
    )
    list_filter = ("status", "disputed")
    search_fields = ("family__name", "stripe_payment_intent_id", "order__pk")
    readonly_fields = [
        *(f.name for f in Payment._meta.fields if f.name != "client_secret"),
        "history",
    ]
    exclude = ("client_secret",)
    actions = ["refund_in_full"]

    def has_add_permission(self, request):
        return False

    def has_refund_payment_permission(self, request):
        return request.user.has_perm(perm("refund_payment"))

    @admin.action(
        description="Refund the selected payments in full", permissions=["refund_payment"]
    )
    def refund_in_full(self, request, queryset):
        for payment in queryset:
            try:
                services.payment_refund(payment_id=payment.pk, reason="refunded by staff")
            except ApplicationError as exc:
                self.message_user(request, f"Payment {payment.pk}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"Payment {payment.pk} refunded.")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(HistoryLinkMixin, admin.ModelAdmin):
    list_display = ("created_at", "family", "kind", "description", "amount", "currency")
    list_filter = ("kind",)
    search_fields = ("family__name", "description")
    readonly_fields = [*(f.name for f in LedgerEntry._meta.fields), "history"]

    def has_add_permission(self, request):
        return False


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("event_id", "type", "object_id", "received_at", "processed_at")
    list_filter = ("type",)
    readonly_fields = [f.name for f in StripeEvent._meta.fields]

    def has_add_permission(self, request):
        return False  # written by the webhook as Stripe sends events, never by hand


@admin.register(AutopayCharge)
class AutopayChargeAdmin(HistoryLinkMixin, admin.ModelAdmin):
    list_display = (
        "period",
        "family",
        "amount",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("status", "period")
    search_fields = ("family__name",)
    readonly_fields = [*(f.name for f in AutopayCharge._meta.fields), "history"]

    def has_add_permission(self, request):
        return False
