"""/console/ on every tenant host (included by saas_platform.urls_tenant)."""

from django.urls import path

import kernel.converters  # noqa: F401  (<isodate:...>)
from portal.config.settings_schema import PAGES_BY_KEY

from . import (
    activity_views,
    announcements_views,
    branding_views,
    desk_views,
    money_views,
    openings_views,
    payments_views,
    requests_views,
    roster_views,
    settings_views,
    staff_profile_views,
    views,
    website_views,
)

urlpatterns = [
    path("families/", money_views.family_search, name="console-families"),
    path(
        "families/unsigned-policies/",
        activity_views.unsigned_policies,
        name="console-unsigned-policies",
    ),
    path("families/<int:family_id>/", money_views.family_detail, name="console-family"),
    path(
        "families/<int:family_id>/charge", money_views.family_charge, name="console-family-charge"
    ),
    path(
        "families/<int:family_id>/credit", money_views.family_credit, name="console-family-credit"
    ),
    path(
        "families/<int:family_id>/payment",
        money_views.family_payment,
        name="console-family-payment",
    ),
    path(
        "families/<int:family_id>/payments/<int:payment_id>/refund",
        money_views.family_refund,
        name="console-family-refund",
    ),
    path(
        "families/<int:family_id>/ledger/<int:entry_id>/receipt",
        money_views.family_receipt,
        name="console-family-receipt",
    ),
    path(
        "families/<int:family_id>/guardians/<int:guardian_id>/invite",
        money_views.family_invite,
        name="console-family-invite",
    ),
    path("families/<int:family_id>/enroll", desk_views.family_enroll, name="console-family-enroll"),
    path(
        "families/<int:family_id>/students/<int:student_id>/photo",
        money_views.family_student_photo,
        name="console-family-student-photo",
    ),
    path(
        "enrollments/<int:enrollment_id>/drop",
        desk_views.enrollment_drop,
        name="console-enrollment-drop",
    ),
    path(
        "enrollments/<int:enrollment_id>/transfer",
        desk_views.enrollment_transfer,
        name="console-enrollment-transfer",
    ),
    path("requests/", requests_views.requests_list, name="console-requests"),
    path("requests/<int:request_id>/", requests_views.request_detail, name="console-request"),
    path(
        "requests/<int:request_id>/decide",
        requests_views.request_decide,
        name="console-request-decide",
    ),
    path("payments/failed/", requests_views.payments_failed, name="console-payments-failed"),
    path("activity/", activity_views.activity, name="console-activity"),
    path("activity/<int:item_id>/mark", activity_views.activity_mark, name="console-activity-mark"),
    path("waitlists/", desk_views.waitlists, name="console-waitlists"),
    path("waitlists/<int:offering_id>/", desk_views.waitlist, name="console-waitlist"),
    path(
        "waitlists/entries/<int:entry_id>/offer",
        desk_views.waitlist_offer,
        name="console-waitlist-offer",
    ),
    path(
        "waitlists/entries/<int:entry_id>/move",
        desk_views.waitlist_move,
        name="console-waitlist-move",
    ),
    path("receivables/", money_views.receivables, name="console-receivables"),
    path("autopay/", money_views.autopay, name="console-autopay"),
    path("autopay/<int:charge_id>/retry", money_views.autopay_retry, name="console-autopay-retry"),
    path("payouts/", money_views.payouts, name="console-payouts"),
    path("reports/", money_views.report, name="console-reports"),
    path("reports/<slug:name>/", money_views.report, name="console-report"),
    path("reports/<slug:name>/csv", money_views.report_csv, name="console-report-csv"),
    path("settings/branding/", branding_views.branding, name="console-settings-branding"),
    path(
        "settings/branding/colours",
        branding_views.branding_colours,
        name="console-branding-colours",
    ),
    path(
        "settings/branding/images/<str:field>",
        branding_views.branding_image,
        name="console-branding-image",
    ),
    path(
        "settings/branding/images/<str:field>/remove",
        branding_views.branding_image_remove,
        name="console-branding-image-remove",
    ),
    path(
        "settings/branding/contrast-fix",
        branding_views.branding_contrast_fix,
        name="console-branding-contrast-fix",
    ),
    path(
        "settings/branding/publish",
        branding_views.branding_publish,
        name="console-branding-publish",
    ),
    path(
        "settings/branding/versions/<int:number>/rollback",
        branding_views.branding_rollback,
        name="console-branding-rollback",
    ),
    path("settings/payments/", payments_views.payments, name="console-settings-payments"),
    path("settings/payments/start", payments_views.payments_start, name="console-payments-start"),
    path(
        "settings/payments/resume",
        payments_views.payments_resume,
        name="console-payments-resume",
    ),
    path(
        "settings/payments/return",
        payments_views.payments_return,
        name="console-payments-return",
    ),
    path(
        "settings/payments/refresh",
        payments_views.payments_refresh,
        name="console-payments-refresh",
    ),
    path("settings/payments/demo", payments_views.payments_demo, name="console-payments-demo"),
    path("", views.dashboard, name="console-dashboard"),
    path("login/", views.login_view, name="console-login"),
    path("plan/", views.plan, name="console-plan"),
    path("logout/", views.logout_view, name="console-logout"),
    path("enrollments/", views.enrollments_pending, name="console-enrollments"),
    path(
        "enrollments/<int:enrollment_id>/decide",
        views.enrollment_decide,
        name="console-enrollment-decide",
    ),
    path("rosters/<int:offering_id>/", roster_views.offering_roster, name="console-roster"),
    path(
        "rosters/<int:offering_id>/<isodate:day>/",
        roster_views.meeting_roster,
        name="console-meeting",
    ),
    path(
        "rosters/<int:offering_id>/<isodate:day>/mark",
        roster_views.meeting_mark,
        name="console-meeting-mark",
    ),
    path(
        "rosters/<int:offering_id>/<isodate:day>/all-present",
        roster_views.meeting_all_present,
        name="console-meeting-all-present",
    ),
    path(
        "rosters/<int:offering_id>/<isodate:day>/csv",
        roster_views.meeting_csv,
        name="console-meeting-csv",
    ),
    path("openings/", openings_views.openings, name="console-openings"),
    path("openings/status.json", openings_views.openings_status, name="console-openings-status"),
    path(
        "openings/<int:opening_id>/pause",
        openings_views.opening_pause,
        name="console-opening-pause",
    ),
    path("staff/", views.staff, name="console-staff"),
    path("staff/invite", views.staff_invite_view, name="console-staff-invite"),
    path("staff/<int:user_id>/role", views.staff_role_view, name="console-staff-role"),
    path("settings/", settings_views.settings_index, name="console-settings"),
    path(
        "settings/signup-questions/",
        settings_views.settings_questions,
        name="console-settings-questions",
    ),
    path(
        "settings/signup-questions/<int:question_id>",
        settings_views.settings_question,
        name="console-settings-question",
    ),
    path(
        "settings/announcements/",
        announcements_views.announcements,
        name="console-settings-announcements",
    ),
    path(
        "settings/announcements/<int:announcement_id>",
        announcements_views.announcement,
        name="console-settings-announcement",
    ),
    # The staff page's people (distinct from staff/, which is accounts and roles).
    path(
        "settings/staff/",
        staff_profile_views.staff_profiles,
        name="console-settings-staff-profiles",
    ),
    path(
        "settings/staff/<int:staff_id>",
        staff_profile_views.staff_profile,
        name="console-settings-staff-profile",
    ),
    path(
        "settings/staff/<int:staff_id>/photo",
        staff_profile_views.staff_photo,
        name="console-settings-staff-photo",
    ),
    path(
        "settings/staff/<int:staff_id>/availability",
        staff_profile_views.staff_availability,
        name="console-settings-staff-availability",
    ),
    path("settings/website/", website_views.website, name="console-settings-website"),
    path(
        "settings/website/preview",
        website_views.website_preview,
        name="console-settings-website-preview",
    ),
    # One route per page of portal.config.settings_schema (named console-settings-<key>).
    *(
        path(
            f"settings/{key}/",
            settings_views.settings_page,
            {"key": key},
            name=f"console-settings-{key}",
        )
        for key in PAGES_BY_KEY
    ),
]
