from django.contrib import admin, messages

from kernel.errors import ApplicationError

from . import services
from .models import Brand, ThemeVersion


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    """The draft theme. Images are uploaded through the staff API, which checks them."""

    readonly_fields = ("logo", "favicon", "app_icon", "updated_at")
    actions = None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            services.brand_update(**{f: form.cleaned_data[f] for f in form.changed_data})
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def response_change(self, request, obj):
        if "_publish" in request.POST:
            try:
                version = services.theme_publish(published_by=request.user.email)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                note = " A new branded-app build is needed." if version.needs_app_build else ""
                self.message_user(request, f"Published theme v{version.number}.{note}")
        return super().response_change(request, obj)


@admin.register(ThemeVersion)
class ThemeVersionAdmin(admin.ModelAdmin):
    list_display = ("number", "published_at", "published_by", "needs_app_build")
    readonly_fields = [f.name for f in ThemeVersion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
