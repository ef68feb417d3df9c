from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from . import (
    account,
    catalog,
    embed,
    family,
    seo,
    shopping,
    theme,
    views,
    views_billing,
    views_requests,
    views_staff,
    views_store,
    waiting_room,
)
from . import calendar as calendar_feed

urlpatterns = [
    path("", views.home, name="portal-home"),
    path("theme.css", theme.theme_css, name="portal-theme-css"),
    path("robots.txt", seo.robots_txt, name="portal-robots"),
    path("sitemap.xml", seo.sitemap_xml, name="portal-sitemap"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Catalog (visitors may browse when the business allows it).
    path("classes/", catalog.class_search, name="portal-classes"),
    path("classes/find/", catalog.class_finder, name="portal-class-finder"),
    path("classes/<int:offering_id>/", catalog.offering_detail, name="portal-offering"),
    # Accounts.
    path("signup/", account.signup, name="portal-signup"),
    path("login/", account.login_view, name="portal-login"),
    path("logout/", account.logout_view, name="portal-logout"),
    path("account/password-reset/", account.password_reset, name="portal-password-reset-request"),
    path("account/devices/", account.signed_in_devices, name="portal-devices"),
    # The signed-in family.
    path("family/", family.family_profile, name="portal-family"),
    path("family/edit/", family.family_edit, name="portal-family-edit"),
    path("family/export/", family.family_export, name="portal-family-export"),
    path("family/students/add/", family.student_add, name="portal-student-add"),
    path("family/students/<int:student_id>/", family.student_edit, name="portal-student-edit"),
    path(
        "family/students/<int:student_id>/photo/",
        family.student_photo,
        name="portal-student-photo",
    ),
    path("family/guardians/add/", family.guardian_add, name="portal-guardian-add"),
    path(
        "family/guardians/<int:guardian_id>/remove/",
        family.guardian_remove,
        name="portal-guardian-remove",
    ),
    path("account/", family.account_settings, name="portal-account"),
    path("account/password/", family.password_change, name="portal-password-change"),
    path("account/email/", family.email_change, name="portal-email-change"),
    path(
        "account/email/confirm/<str:token>/",
        family.email_change_confirm,
        name="portal-email-confirm",
    ),
    path("family/contacts/add/", family.contact_add, name="portal-contact-add"),
    path(
        "family/contacts/<int:contact_id>/edit/",
        family.contact_edit,
        name="portal-contact-edit",
    ),
    path(
        "family/contacts/<int:contact_id>/delete/",
        family.contact_delete,
        name="portal-contact-delete",
    ),
    path("family/policies/", family.policies_accept, name="portal-policies"),
    path("cart/", shopping.cart, name="portal-cart"),
    path("cart/add/", shopping.cart_add, name="portal-cart-add"),
    path("cart/hold-again/", shopping.cart_hold_again, name="portal-cart-hold-again"),
    path("cart/items/<int:hold_id>/remove/", shopping.cart_remove, name="portal-cart-remove"),
    path("waitlist/", shopping.waitlist, name="portal-waitlist"),
    path("waitlist/join/", shopping.waitlist_join, name="portal-waitlist-join"),
    path(
        "waitlist/<int:entry_id>/accept/",
        shopping.waitlist_accept,
        name="portal-waitlist-accept",
    ),
    path(
        "waitlist/<int:entry_id>/decline/",
        shopping.waitlist_decline,
        name="portal-waitlist-decline",
    ),
    path("checkout/", shopping.checkout, name="portal-checkout"),
    path("waiting-room/<int:opening_id>/", waiting_room.opening_page, name="portal-waiting-room"),
    path(
        "waiting-room/<int:opening_id>/join/",
        waiting_room.opening_join,
        name="portal-waiting-room-join",
    ),
    path(
        "waiting-room/<int:opening_id>/status.json",
        waiting_room.opening_status,
        name="portal-waiting-room-status",
    ),
    path("orders/<int:order_id>/", shopping.order_detail, name="portal-order"),
    path("orders/<int:order_id>/receipt/", shopping.order_receipt, name="portal-order-receipt"),
    path("orders/<int:order_id>/pay/", shopping.order_pay_saved, name="portal-order-pay-saved"),
    path("enrollments/", shopping.enrollments, name="portal-enrollments"),
    path("schedule/", shopping.schedule, name="portal-schedule"),
    # Calendar feed, website widget (web2).
    path("family/calendar/", calendar_feed.calendar_settings, name="portal-family-calendar"),
    path("calendar/<str:token>.ics", calendar_feed.calendar_feed, name="portal-calendar-feed"),
    path("embed.js", embed.embed_js, name="portal-embed-js"),
    path("embed/offerings.json", embed.embed_offerings, name="portal-embed-offerings"),
    # Requests, billing, store and staff pages (web2).
    path("requests/", views_requests.requests_home, name="portal-requests"),
    path(
        "requests/absence/<int:enrollment_id>/",
        views_requests.absence,
        name="portal-request-absence",
    ),
    path(
        "requests/transfer/<int:enrollment_id>/",
        views_requests.transfer,
        name="portal-request-transfer",
    ),
    path("requests/drop/<int:enrollment_id>/", views_requests.drop, name="portal-request-drop"),
    path("requests/makeup/<int:token_id>/", views_requests.makeup, name="portal-request-makeup"),
    path("requests/<int:request_id>/cancel/", views_requests.cancel, name="portal-request-cancel"),
    path("billing/", views_billing.billing, name="portal-billing"),
    path("billing/statement/", views_billing.statement, name="portal-billing-statement"),
    path("billing/pay/", views_billing.balance_pay, name="portal-balance-pay"),
    path(
        "billing/payment-methods/add/",
        views_billing.method_add,
        name="portal-payment-method-add",
    ),
    path(
        "billing/payment-methods/<int:method_id>/remove/",
        views_billing.method_remove,
        name="portal-payment-method-remove",
    ),
    path(
        "billing/payment-methods/<int:method_id>/default/",
        views_billing.method_default,
        name="portal-payment-method-default",
    ),
    path("store/", views_store.store, name="portal-store"),
    path("store/gift-certificates/buy/", views_store.gift_buy, name="portal-gift-buy"),
    path("store/gift-certificates/status/", views_store.gift_status, name="portal-gift-status"),
    path("store/gift-certificates/balance/", views_store.gift_balance, name="portal-gift-balance"),
    path("store/punch-passes/buy/", views_store.punch_buy, name="portal-punch-buy"),
    path(
        "store/punch-passes/<int:pass_id>/use/",
        views_store.punch_redeem,
        name="portal-punch-redeem",
    ),
    path("staff/", views_staff.staff, name="portal-staff"),
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
