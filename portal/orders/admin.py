from django.contrib import admin

from portal.enrollment.models import Order, OrderLine
from portal.privacy.history_admin import HistoryLinkMixin

from .models import OrderTender


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "description", "amount", "student", "offering", "registration_year")

    def has_add_permission(self, request, obj=None):
        return False


class OrderTenderInline(admin.TabularInline):
    """Account credit and gift certificates that pay part of the order."""

    model = OrderTender
    fields = ("kind", "description", "amount", "status", "gift_certificate", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(HistoryLinkMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "family",
        "kind",
        "status",
        "total",
        "currency",
        "created_at",
        "confirmed_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("family__name", "pk")
    readonly_fields = [*(f.name for f in Order._meta.fields), "history"]
    inlines = [OrderLineInline, OrderTenderInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # an order is money history: it lapses or is cancelled, never deleted
