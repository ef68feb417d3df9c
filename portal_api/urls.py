from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

import kernel.converters  # noqa: F401  (<isodate:...>)
from branded_apps import api as branded_app_api
from kernel.api.docs import ApiDocsView

from .views import (
    auth,
    billing,
    calendar,
    catalog,
    devices,
    domains,
    enrollment,
    family,
    openings,
    portal,
    privacy,
    requests,
    staff_activity,
    staff_attendance,
    staff_desk,
    staff_enrollments,
    staff_families,
    staff_members,
    staff_money,
    staff_reports,
    staff_settings,
    store,
    theme,
)

urlpatterns = [
    path("portal", portal.PortalConfigApi.as_view(), name="api-portal"),
    path("announcements", portal.AnnouncementListApi.as_view(), name="api-announcements"),
    path("auth/signup", auth.SignupApi.as_view(), name="api-signup"),
    path("auth/token", auth.TokenApi.as_view(), name="api-token"),
    path("auth/logout", auth.LogoutApi.as_view(), name="api-logout"),
    path("auth/devices", auth.SignedInDeviceListApi.as_view(), name="api-devices-signed-in"),
    path(
        "auth/devices/<int:device_id>",
        auth.SignedInDeviceRevokeApi.as_view(),
        name="api-device-signed-in-revoke",
    ),
    path("auth/password-reset", auth.PasswordResetApi.as_view(), name="api-password-reset"),
    path(
        "auth/password-reset/confirm",
        auth.PasswordResetConfirmApi.as_view(),
        name="api-password-reset-confirm",
    ),
    path("policies", family.PolicyListApi.as_view(), name="api-policies"),
    path("family", family.FamilyDetailApi.as_view(), name="api-family"),
    path("family/students", family.StudentListApi.as_view(), name="api-students"),
    path("family/students/<int:student_id>", family.StudentDetailApi.as_view(), name="api-student"),
    path("family/guardians", family.GuardianListApi.as_view(), name="api-guardians"),
    path(
        "family/emergency-contacts",
        family.EmergencyContactListApi.as_view(),
        name="api-emergency-contacts",
    ),
    path(
        "family/emergency-contacts/<int:contact_id>",
        family.EmergencyContactDetailApi.as_view(),
        name="api-emergency-contact",
    ),
    path("family/policies", family.PolicyAcceptApi.as_view(), name="api-policies-accept"),
    path("family/export", privacy.FamilyExportApi.as_view(), name="api-family-export"),
    path(
        "family/deletion-request",
        privacy.FamilyDeletionRequestApi.as_view(),
        name="api-family-deletion-request",
    ),
    path("family/calendar-feed", calendar.CalendarFeedApi.as_view(), name="api-calendar-feed"),
    path("offerings", catalog.OfferingListApi.as_view(), name="api-offerings"),
    path("offerings/filters", catalog.OfferingFiltersApi.as_view(), name="api-offering-filters"),
    path("offerings/match", catalog.OfferingMatchApi.as_view(), name="api-offerings-match"),
    path("offerings/<int:offering_id>", catalog.OfferingDetailApi.as_view(), name="api-offering"),
    path("staff", catalog.StaffListApi.as_view(), name="api-staff"),
    path("openings", openings.OpeningListApi.as_view(), name="api-openings"),
    path(
        "openings/<int:opening_id>/queue",
        openings.OpeningQueueApi.as_view(),
        name="api-opening-queue",
    ),
    path(
        "staff/openings/<int:opening_id>/queue",
        openings.StaffOpeningQueueApi.as_view(),
        name="api-staff-opening-queue",
    ),
    path(
        "staff/openings/<int:opening_id>/pause",
        openings.StaffOpeningPauseApi.as_view(),
        name="api-staff-opening-pause",
    ),
    path("theme/tokens.json", theme.ThemeTokensApi.as_view(), name="api-theme-tokens"),
    path("theme/app-config.json", theme.ThemeAppConfigApi.as_view(), name="api-theme-app-config"),
    path("staff/theme/draft", theme.StaffThemeDraftApi.as_view(), name="api-staff-theme-draft"),
    path(
        "staff/theme/draft/images/<str:field>",
        theme.StaffThemeImageApi.as_view(),
        name="api-staff-theme-image",
    ),
    path(
        "staff/theme/contrast",
        theme.StaffThemeContrastApi.as_view(),
        name="api-staff-theme-contrast",
    ),
    path(
        "staff/theme/contrast/fix",
        theme.StaffThemeContrastFixApi.as_view(),
        name="api-staff-theme-contrast-fix",
    ),
    path(
        "staff/theme/versions/<int:number>/rollback",
        theme.StaffThemeRollbackApi.as_view(),
        name="api-staff-theme-rollback",
    ),
    path(
        "staff/theme/publish", theme.StaffThemePublishApi.as_view(), name="api-staff-theme-publish"
    ),
    path(
        "staff/theme/versions",
        theme.StaffThemeVersionsApi.as_view(),
        name="api-staff-theme-versions",
    ),
    path("staff/app", branded_app_api.StaffAppApi.as_view(), name="api-staff-app"),
    path("staff/app/", include("branded_apps.urls")),
    path("devices", devices.DeviceListApi.as_view(), name="api-devices"),
    path("devices/<int:device_id>", devices.DeviceDetailApi.as_view(), name="api-device"),
    path("cart", enrollment.CartApi.as_view(), name="api-cart"),
    path("cart/items", enrollment.CartItemListApi.as_view(), name="api-cart-items"),
    path("cart/items/<int:hold_id>", enrollment.CartItemDetailApi.as_view(), name="api-cart-item"),
    path("checkout", enrollment.CheckoutApi.as_view(), name="api-checkout"),
    path("orders", enrollment.OrderListApi.as_view(), name="api-orders"),
    path("orders/<int:order_id>", enrollment.OrderDetailApi.as_view(), name="api-order"),
    path("orders/<int:order_id>/pay", billing.OrderPayApi.as_view(), name="api-order-pay"),
    path("balance/pay", billing.BalancePayApi.as_view(), name="api-balance-pay"),
    path("ledger", billing.LedgerApi.as_view(), name="api-ledger"),
    path(
        "store/gift-certificates",
        store.GiftCertificateListApi.as_view(),
        name="api-gift-certificates",
    ),
    path(
        "store/gift-certificates/visitor",
        store.VisitorGiftPurchaseApi.as_view(),
        name="api-gift-certificates-visitor",
    ),
    path(
        "store/gift-certificates/visitor/status",
        store.VisitorGiftStatusApi.as_view(),
        name="api-gift-certificates-visitor-status",
    ),
    path(
        "store/gift-certificates/balance",
        store.GiftCertificateBalanceApi.as_view(),
        name="api-gift-certificate-balance",
    ),
    path(
        "store/punch-pass-products",
        store.PunchPassProductListApi.as_view(),
        name="api-punch-pass-products",
    ),
    path("store/punch-passes", store.PunchPassListApi.as_view(), name="api-punch-passes"),
    path(
        "store/punch-passes/<int:pass_id>/redeem",
        store.PunchPassRedeemApi.as_view(),
        name="api-punch-pass-redeem",
    ),
    path("ledger/statement", billing.StatementApi.as_view(), name="api-ledger-statement"),
    path("payment-methods", billing.PaymentMethodListApi.as_view(), name="api-payment-methods"),
    path(
        "payment-methods/setup",
        billing.PaymentMethodSetupApi.as_view(),
        name="api-payment-methods-setup",
    ),
    path(
        "payment-methods/<int:method_id>",
        billing.PaymentMethodDetailApi.as_view(),
        name="api-payment-method",
    ),
    path(
        "payment-methods/<int:method_id>/default",
        billing.PaymentMethodDefaultApi.as_view(),
        name="api-payment-method-default",
    ),
    path(
        "staff/payments/<int:payment_id>/refund",
        billing.StaffRefundApi.as_view(),
        name="api-staff-refund",
    ),
    path(
        "staff/stripe/account",
        billing.StaffStripeAccountApi.as_view(),
        name="api-staff-stripe-account",
    ),
    path(
        "staff/stripe/account/refresh",
        billing.StaffStripeAccountRefreshApi.as_view(),
        name="api-staff-stripe-account-refresh",
    ),
    path(
        "staff/stripe/onboarding",
        billing.StaffStripeOnboardingApi.as_view(),
        name="api-staff-stripe-onboarding",
    ),
    path("enrollments", enrollment.EnrollmentListApi.as_view(), name="api-enrollments"),
    path("waitlist", enrollment.WaitlistListApi.as_view(), name="api-waitlist"),
    path(
        "waitlist/<int:entry_id>", enrollment.WaitlistDetailApi.as_view(), name="api-waitlist-entry"
    ),
    path(
        "waitlist/<int:entry_id>/accept",
        enrollment.WaitlistAcceptApi.as_view(),
        name="api-waitlist-accept",
    ),
    path("requests", requests.RequestListApi.as_view(), name="api-requests"),
    path(
        "requests/transfer-preview",
        requests.TransferPreviewApi.as_view(),
        name="api-transfer-preview",
    ),
    path(
        "requests/<int:request_id>/cancel",
        requests.RequestCancelApi.as_view(),
        name="api-request-cancel",
    ),
    path("makeup-tokens", requests.MakeupTokenListApi.as_view(), name="api-makeup-tokens"),
    path("staff/requests", requests.StaffRequestListApi.as_view(), name="api-staff-requests"),
    path(
        "staff/requests/<int:request_id>/decide",
        requests.StaffRequestDecideApi.as_view(),
        name="api-staff-request-decide",
    ),
    path(
        "staff/enrollments/pending",
        staff_enrollments.StaffEnrollmentPendingListApi.as_view(),
        name="api-staff-enrollments-pending",
    ),
    path(
        "staff/enrollments/<int:enrollment_id>/approve",
        staff_enrollments.StaffEnrollmentApproveApi.as_view(),
        name="api-staff-enrollment-approve",
    ),
    path(
        "staff/enrollments/<int:enrollment_id>/deny",
        staff_enrollments.StaffEnrollmentDenyApi.as_view(),
        name="api-staff-enrollment-deny",
    ),
    path(
        "staff/families/<int:family_id>/enrollments",
        staff_desk.DeskEnrollApi.as_view(),
        name="api-staff-family-enroll",
    ),
    path(
        "staff/enrollments/<int:enrollment_id>/drop",
        staff_desk.DeskDropApi.as_view(),
        name="api-staff-enrollment-drop",
    ),
    path(
        "staff/enrollments/<int:enrollment_id>/transfer",
        staff_desk.DeskTransferApi.as_view(),
        name="api-staff-enrollment-transfer",
    ),
    path("staff/activity", staff_activity.ActivityListApi.as_view(), name="api-staff-activity"),
    path(
        "staff/activity/<int:item_id>/mark",
        staff_activity.ActivityMarkApi.as_view(),
        name="api-staff-activity-mark",
    ),
    path(
        "staff/offerings/<int:offering_id>/waitlist",
        staff_desk.OfferingWaitlistApi.as_view(),
        name="api-staff-offering-waitlist",
    ),
    path(
        "staff/waitlist/<int:entry_id>/offer",
        staff_desk.WaitlistOfferApi.as_view(),
        name="api-staff-waitlist-offer",
    ),
    path(
        "staff/waitlist/<int:entry_id>/move",
        staff_desk.WaitlistMoveApi.as_view(),
        name="api-staff-waitlist-move",
    ),
    path("staff/families", staff_families.FamilySearchApi.as_view(), name="api-staff-families"),
    path(
        "staff/families/<int:family_id>",
        staff_families.FamilyDetailApi.as_view(),
        name="api-staff-family",
    ),
    path(
        "staff/families/<int:family_id>/charges",
        staff_families.FamilyChargeApi.as_view(),
        name="api-staff-family-charge",
    ),
    path(
        "staff/families/<int:family_id>/credits",
        staff_families.FamilyCreditApi.as_view(),
        name="api-staff-family-credit",
    ),
    path(
        "staff/families/<int:family_id>/payments",
        staff_families.FamilyOfflinePaymentApi.as_view(),
        name="api-staff-family-offline-payment",
    ),
    path(
        "staff/families/<int:family_id>/payments/<int:payment_id>/refund",
        staff_families.FamilyPaymentRefundApi.as_view(),
        name="api-staff-family-payment-refund",
    ),
    path(
        "staff/families/<int:family_id>/ledger/<int:entry_id>/receipt",
        staff_families.ReceiptResendApi.as_view(),
        name="api-staff-family-receipt",
    ),
    path(
        "staff/families/<int:family_id>/guardians/<int:guardian_id>/invite",
        staff_families.InviteResendApi.as_view(),
        name="api-staff-family-invite",
    ),
    path("staff/receivables", staff_money.ReceivablesApi.as_view(), name="api-staff-receivables"),
    path(
        "staff/autopay/runs", staff_money.AutopayRunListApi.as_view(), name="api-staff-autopay-runs"
    ),
    path(
        "staff/autopay/charges",
        staff_money.AutopayChargeListApi.as_view(),
        name="api-staff-autopay-charges",
    ),
    path(
        "staff/autopay/charges/<int:charge_id>/retry",
        staff_money.AutopayRetryApi.as_view(),
        name="api-staff-autopay-retry",
    ),
    path("staff/payouts", staff_money.PayoutListApi.as_view(), name="api-staff-payouts"),
    path(
        "staff/balance-transactions",
        staff_money.BalanceTransactionListApi.as_view(),
        name="api-staff-balance-transactions",
    ),
    path(
        "staff/classes/today",
        staff_attendance.StaffClassesTodayApi.as_view(),
        name="api-staff-classes-today",
    ),
    path(
        "staff/rosters/<int:offering_id>",
        staff_attendance.StaffOfferingRosterApi.as_view(),
        name="api-staff-roster",
    ),
    path(
        "staff/rosters/<int:offering_id>/meetings/<isodate:day>",
        staff_attendance.StaffMeetingRosterApi.as_view(),
        name="api-staff-roster-meeting",
    ),
    path(
        "staff/rosters/<int:offering_id>/meetings/<isodate:day>/csv",
        staff_attendance.StaffMeetingRosterCsvApi.as_view(),
        name="api-staff-roster-meeting-csv",
    ),
    path(
        "staff/rosters/<int:offering_id>/meetings/<isodate:day>/attendance",
        staff_attendance.StaffAttendanceMarkApi.as_view(),
        name="api-staff-attendance-mark",
    ),
    path(
        "staff/rosters/<int:offering_id>/meetings/<isodate:day>/attendance/all-present",
        staff_attendance.StaffAttendanceAllPresentApi.as_view(),
        name="api-staff-attendance-all-present",
    ),
    path("staff/reports", staff_reports.ReportListApi.as_view(), name="api-staff-reports"),
    path("staff/reports/<slug:name>", staff_reports.ReportApi.as_view(), name="api-staff-report"),
    path(
        "staff/reports/<slug:name>/csv",
        staff_reports.ReportCsvApi.as_view(),
        name="api-staff-report-csv",
    ),
    path("staff/settings", staff_settings.StaffSettingsApi.as_view(), name="api-staff-settings"),
    path("staff/members", staff_members.StaffMemberListApi.as_view(), name="api-staff-members"),
    path(
        "staff/members/<int:user_id>/role",
        staff_members.StaffMemberRoleApi.as_view(),
        name="api-staff-member-role",
    ),
    path("staff/domains", domains.StaffDomainListApi.as_view(), name="api-staff-domains"),
    path(
        "staff/domains/<int:domain_id>",
        domains.StaffDomainDetailApi.as_view(),
        name="api-staff-domain",
    ),
    path(
        "staff/domains/<int:domain_id>/verify",
        domains.StaffDomainVerifyApi.as_view(),
        name="api-staff-domain-verify",
    ),
    path(
        "staff/domains/<int:domain_id>/primary",
        domains.StaffDomainPrimaryApi.as_view(),
        name="api-staff-domain-primary",
    ),
    path(
        "schema", SpectacularAPIView.as_view(urlconf="saas_platform.urls_tenant"), name="api-schema"
    ),
    path("docs", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
]
