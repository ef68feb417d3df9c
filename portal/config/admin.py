from django.contrib import admin

from .admin_time import TenantZoneNoteMixin
from .models import Announcement, PortalSettings


@admin.register(PortalSettings)
class PortalSettingsAdmin(TenantZoneNoteMixin, admin.ModelAdmin):
    zone_note_fieldsets = ("Registration",)
    fieldsets = (
        ("Portal", {"fields": (
            "portal_enabled", "mobile_app_enabled", "visitors_may_create_accounts",
            "list_visible_when_logged_out", "families_may_set_levels",
        )}),
        ("What the class list shows", {"fields": (
            "show_classes", "show_camps", "show_events", "show_punch_passes", "openings_display",
            "show_levels", "class_search_filters",
        )}),
        ("Checkout", {"fields": ("hold_timer_minutes",)}),
        ("Registration", {"fields": (
            "registration_mode", "priority_registration_starts_at", "priority_registration_ends_at",
            "priority_registration_mode", "priority_keywords", "new_families_may_enroll",
            "new_family_enrollment_opens_at", "inactive_families_may_enroll",
            "pending_requests_count_against_openings", "enrollment_cutoff_minutes_after_start",
            "force_start_on_meeting_date",
            "referral_source_required", "referral_sources", "waitlist_offer_hours",
        )}),
        ("Absences and makeups", {"fields": (
            "absences_enabled", "absence_notice_hours", "absences_auto_approve",
            "absence_issues_makeup_token", "makeups_enabled", "makeup_token_expiry_days",
            "makeup_seats_per_class",
        )}),
        ("Transfers and drops", {"fields": (
            "transfers_enabled", "transfers_next_level_only", "one_transfer_per_enrollment",
            "drops_enabled", "drop_notice_days", "drop_reason_required",
        )}),
        ("Money and store", {"fields": (
            "stored_payment_method_policy", "billing_day", "autopay_retry_days",
            "past_due_policy", "registration_fee_scope",
            "registration_year_start_month", "sibling_discount_percents",
            "multi_class_discount_percents",
            "gift_certificates_enabled", "gift_certificates_visitors_may_buy",
            "gift_certificate_amounts", "gift_certificate_min",
            "gift_certificate_max",
            "punch_passes_enabled",
        )}),
        ("Staff pages", {"fields": ("staff_bios_visible", "staff_availability_visible")}),
        ("Home page", {"fields": ("welcome_heading", "welcome_message")}),
        # Run by the platform, not the business: shown, not editable here or in the console.
        ("Platform", {"fields": ("class_search_rate_limit",)}),
    )  # fmt: skip
    readonly_fields = ("class_search_rate_limit",)

    def has_add_permission(self, request):
        # One row per business, created when the business is provisioned.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Announcement)
class AnnouncementAdmin(TenantZoneNoteMixin, admin.ModelAdmin):
    zone_note_fieldsets = (None,)
    list_display = ("title", "kind", "severity", "audience", "starts_at", "ends_at", "is_published")
    list_filter = ("kind", "severity", "audience", "is_published")
    search_fields = ("title", "body")
    filter_horizontal = ("programs",)
    date_hierarchy = "starts_at"
