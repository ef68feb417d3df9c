"""URL map of the root host (PLATFORM_DOMAIN): platform site, platform admin, platform API."""

from django.urls import include, path

from kernel.admin_sites import platform_admin_site
from portal_api.views.stripe_webhooks import stripe_webhook
from tenants import views

urlpatterns = [
    path("", views.landing, name="platform-landing"),
    path("robots.txt", views.robots_txt, name="platform-robots"),
    path("sitemap.xml", views.sitemap_xml, name="platform-sitemap"),
    path("admin/", platform_admin_site.urls),
    path("console/", include("platform_console.urls")),
    path("api/platform/v1/", include("tenants.api_urls")),
    path("webhooks/stripe", stripe_webhook, name="stripe-webhook"),
]
handler404 = "saas_platform.views.not_found"
handler500 = "saas_platform.views.server_error"
