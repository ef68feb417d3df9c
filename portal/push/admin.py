from django.contrib import admin

from .models import PushDevice, PushMessage


@admin.register(PushDevice)
class PushDeviceAdmin(admin.ModelAdmin):
    list_display = ("pk", "guardian", "platform", "app_id", "locale", "last_seen_at")
    list_filter = ("platform",)
    readonly_fields = [f.name for f in PushDevice._meta.fields]

    def has_add_permission(self, request):
        return False  # registered by the app on a device, never by hand


@admin.register(PushMessage)
class PushMessageAdmin(admin.ModelAdmin):
    list_display = ("pk", "event", "family", "status", "created_at", "sent_at", "error")
    list_filter = ("event", "status")
    readonly_fields = [f.name for f in PushMessage._meta.fields]

    def has_add_permission(self, request):
        return False  # queued by the events they tell of, never by hand
