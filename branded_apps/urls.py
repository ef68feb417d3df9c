"""Included under /api/v1/staff/app/ by (the record itself is /api/v1/staff/app) portal_api.urls."""

from django.urls import path

from . import api

urlpatterns = [
    path("listings", api.StaffAppListingListApi.as_view(), name="api-staff-app-listings"),
    path("listings/<str:locale>", api.StaffAppListingApi.as_view(), name="api-staff-app-listing"),
    path("preflight", api.StaffAppPreflightApi.as_view(), name="api-staff-app-preflight"),
    path("builds", api.StaffAppBuildListApi.as_view(), name="api-staff-app-builds"),
    path("builds/<int:number>", api.StaffAppBuildApi.as_view(), name="api-staff-app-build"),
    path(
        "builds/<int:number>/retry",
        api.StaffAppBuildRetryApi.as_view(),
        name="api-staff-app-build-retry",
    ),
    path(
        "builds/<int:number>/download",
        api.AppBuildDownloadApi.as_view(),
        name="api-staff-app-build-download",
    ),
]
