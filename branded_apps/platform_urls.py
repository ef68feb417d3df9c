"""Included under /api/platform/v1/tenants/<slug>/app/ by tenants.api_urls."""

from django.urls import path

from . import platform_api

urlpatterns = [
    path(
        "preflight",
        platform_api.PlatformAppPreflightApi.as_view(),
        name="platform-app-preflight",
    ),
    path("builds", platform_api.PlatformAppBuildListApi.as_view(), name="platform-app-builds"),
    path(
        "builds/<int:number>",
        platform_api.PlatformAppBuildApi.as_view(),
        name="platform-app-build",
    ),
]
