"""/console/ on the root host (included by saas_platform.urls_public)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.business_list, name="platform-console"),
    path("login/", views.login_view, name="platform-console-login"),
    path("logout/", views.logout_view, name="platform-console-logout"),
    path("businesses/new/", views.business_new, name="platform-console-new"),
    path("businesses/<str:slug>/", views.business_detail, name="platform-console-business"),
    path("businesses/<str:slug>/launch", views.business_launch, name="platform-console-launch"),
    path("businesses/<str:slug>/status", views.business_status, name="platform-console-status"),
    path(
        "businesses/<str:slug>/directory",
        views.business_directory,
        name="platform-console-directory",
    ),
    path("businesses/<str:slug>/plan", views.business_plan, name="platform-console-plan"),
    path("businesses/<str:slug>/billing", views.business_billing, name="platform-console-billing"),
    path("businesses/<str:slug>/domains", views.domain_add, name="platform-console-domain-add"),
    path(
        "businesses/<str:slug>/domains/<int:domain_id>/verify",
        views.domain_verify,
        name="platform-console-domain-verify",
    ),
    path(
        "businesses/<str:slug>/domains/<int:domain_id>/remove",
        views.domain_remove,
        name="platform-console-domain-remove",
    ),
]
