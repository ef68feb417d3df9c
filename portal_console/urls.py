"""/console/ on every tenant host (included by saas_platform.urls_tenant)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="console-dashboard"),
    path("login/", views.login_view, name="console-login"),
    path("logout/", views.logout_view, name="console-logout"),
    path("enrollments/", views.enrollments_pending, name="console-enrollments"),
    path(
        "enrollments/<int:enrollment_id>/decide",
        views.enrollment_decide,
        name="console-enrollment-decide",
    ),
]
