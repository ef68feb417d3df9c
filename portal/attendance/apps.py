from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "portal.attendance"
    label = "portal_attendance"
    verbose_name = "Attendance"
