"""URL map of every tenant host (<slug>.<PLATFORM_DOMAIN> and custom domains)."""

from django.contrib import admin
from django.urls import include, path, re_path

from saas_platform.media import media_serve

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal_api.urls")),
    path("console/", include("portal_console.urls")),
    re_path(r"^media/(?P<path>.+)$", media_serve, name="media"),
    path("", include("portal_web.urls")),
]
handler404 = "saas_platform.views.not_found"
handler500 = "saas_platform.views.server_error"
