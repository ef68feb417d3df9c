from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "portal.enrollment"
    label = "portal_enrollment"
    verbose_name = "Enrollment"
