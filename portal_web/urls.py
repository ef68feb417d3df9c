from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import theme, views

urlpatterns = [
    path("", views.home, name="portal-home"),
    path("theme.css", theme.theme_css, name="portal-theme-css"),
    path(
        "account/set-password/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="portal_web/set_password.html",
            success_url=reverse_lazy("portal-set-password-done"),
        ),
        name="portal-set-password",
    ),
    path(
        "account/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="portal_web/set_password.html",
            success_url=reverse_lazy("portal-set-password-done"),
        ),
        name="portal-password-reset",
    ),
    path(
        "account/set-password/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="portal_web/set_password_done.html"
        ),
        name="portal-set-password-done",
    ),
]
