from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from kernel.api.docs import ApiDocsView

from . import api

urlpatterns = [
    path("auth/token", api.PlatformTokenApi.as_view(), name="platform-token"),
    path("tenants", api.TenantCollectionApi.as_view(), name="platform-tenants"),
    path("tenants/<str:slug>", api.TenantDetailApi.as_view(), name="platform-tenant-detail"),
    path(
        "tenants/<str:slug>/suspend", api.TenantSuspendApi.as_view(), name="platform-tenant-suspend"
    ),
    path(
        "tenants/<str:slug>/reactivate",
        api.TenantReactivateApi.as_view(),
        name="platform-tenant-reactivate",
    ),
    path("directory", api.DirectoryApi.as_view(), name="platform-directory"),
    path("tenants/<str:slug>/app/", include("branded_apps.platform_urls")),
    path(
        "schema",
        SpectacularAPIView.as_view(urlconf="saas_platform.urls_public"),
        name="platform-schema",
    ),
    path("docs", ApiDocsView.as_view(url_name="platform-schema"), name="platform-docs"),
]
