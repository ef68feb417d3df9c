"""One registry of every error code the platform answers with (API, web pages, webhooks).

Each app's codes sit in one tuple below with the HTTP status they answer with and what they
mean; ``REGISTRY`` collects them. One code, one meaning: a failure that is not the same as a
registered one gets a code of its own, and a code is registered once. ``tests/kernel/
test_error_codes.py`` reads the source (ast) for every code it can raise or render
(``ApplicationError(...)``, the exception handler, JSON error bodies, branded-app problems)
and fails on one missing here; ``docs/errors.md`` is generated from this module
(``python -m kernel.error_codes > docs/errors.md``) and the test checks it is current.
The OpenAPI ``Error`` schema lists these codes as the enum of its ``code``.

``not_found`` is the router's: no resource at this address, or an id the caller may not see.
A missing object the caller named by id in its input (a student, a card, an order) has its
own ``<thing>_not_found``, the same on the API and the web pages.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    meaning: str
    app: str


def _codes(app: str, *entries: tuple[str, int, str]) -> tuple[ErrorCode, ...]:
    return tuple(ErrorCode(code, status, meaning, app) for code, status, meaning in entries)


# kernel: authentication, the API base classes and exception handler, the login guard,
# admission control, the router's 404/405 (raised or rendered by kernel/ and the wiring).
PLATFORM = _codes(
    "kernel",
    ("account_inactive", 403, "This account is not active."),
    (
        "signed_in_device_not_found",
        404,
        "No such signed-in device of yours (or it is already signed out).",
    ),
    ("authentication_failed", 401, "The credentials or token sent are not valid."),
    ("error", 400, "An API error of a kind without a code of its own (a bug to give it one)."),
    ("invalid_input", 400, "The input is not valid; `fields` maps each input to its problems."),
    ("invalid_page", 400, "The page number is not a positive integer."),
    ("login_locked", 429, "Too many failed sign-ins: sign-in is locked for a while (Retry-After)."),
    ("malformed_request", 400, "The request body could not be parsed (malformed JSON or form)."),
    ("method_not_allowed", 405, "The HTTP method is not allowed on this address."),
    ("not_acceptable", 406, "The Accept header asks for a format the API does not produce."),
    ("not_authenticated", 401, "The request needs a signed-in user or a token."),
    (
        "not_found",
        404,
        "No resource at this address, or an id the caller may not see.",
    ),
    ("permission_denied", 403, "The signed-in user may not do this."),
    (
        "server_busy",
        429,
        "The server is over its latency target and sheds load; retry after Retry-After.",
    ),
    ("server_error", 500, "Something failed on the server (a bug; reported to error tracking)."),
    (
        "staff_permission_required",
        403,
        "The staff member's role does not hold the permission this action needs "
        "(`fields.permission` names it).",
    ),
    ("throttled", 429, "Too many requests; retry after Retry-After."),
    ("unsupported_media_type", 415, "The request body's content type is not accepted."),
)

# tenants
TENANTS = _codes(
    "tenants",
    ("backup_corrupt", 422, "A backup's files do not match its manifest (checksum or format)."),
    ("backup_dump_failed", 500, "pg_dump failed while taking a backup."),
    (
        "backup_newer_than_code",
        409,
        "The backup has migrations this code does not: deploy the newer code first.",
    ),
    ("backup_not_found", 404, "No backup at that location."),
    ("contact_email_invalid", 400, "The business's contact email is not a valid address."),
    ("currency_unsupported", 400, "The currency is not supported."),
    ("deploy_run_not_found", 404, "No deploy run with this id."),
    ("deploy_run_stale", 409, "The deploy run targeted other migrations; start a new one."),
    (
        "launch_checklist_incomplete",
        409,
        "The business cannot launch yet; `fields.checklist` names the items still to do.",
    ),
    ("not_a_platform_admin", 403, "The account is not a platform admin."),
    ("offboard_not_confirmed", 400, "Offboarding needs the business's slug typed to confirm."),
    ("plan_required", 409, "Choose a plan for the business before billing it."),
    (
        "plan_student_limit_reached",
        409,
        "Over the plan's active-student limit past its grace period: no new students online.",
    ),
    ("plan_unknown", 400, "No plan on offer has this code."),
    (
        "platform_billing_unavailable",
        503,
        "Stripe Billing refused, could not be reached or is not configured; nothing changed.",
    ),
    (
        "portal_not_launched",
        503,
        "The business's portal is not launched yet (“opening soon”); its staff see it.",
    ),
    ("domain_already_added", 400, "The domain is already one of the business's domains."),
    ("domain_invalid", 400, "Not a valid domain name."),
    ("domain_limit_reached", 400, "The business has as many custom domains as allowed."),
    ("domain_not_found", 404, "No such domain for this business."),
    ("domain_not_verified", 409, "Only a verified domain can become the primary domain."),
    (
        "domain_platform_reserved",
        400,
        "Domains under the platform's own are assigned by the platform.",
    ),
    ("domain_protected", 409, "The portal's platform address cannot be removed."),
    ("domain_required", 400, "The ?domain= parameter is required."),
    ("domain_taken", 400, "The domain is used by another business."),
    (
        "domain_verification_mismatch",
        400,
        "The domain's TXT record does not hold the verification value.",
    ),
    ("domain_verification_record_missing", 400, "The domain has no verification TXT record yet."),
    (
        "domain_verification_unavailable",
        503,
        "DNS did not answer while verifying the domain; try again.",
    ),
    ("invalid_credentials", 401, "The email or password is not correct."),
    ("invalid_filter", 400, "A filter or query parameter has an unknown value."),
    ("invalid_status_transition", 409, "The tenant's status does not allow this lifecycle step."),
    ("locale_unsupported", 400, "The language is not supported."),
    ("name_required", 400, "The business name is required."),
    ("name_too_long", 400, "The business name may be at most 100 characters."),
    ("owner_email_invalid", 400, "The owner's email is not a valid address."),
    ("pg_dump_missing", 500, "No pg_dump at least as new as the server was found."),
    ("pg_dump_too_old", 500, "PG_DUMP_PATH names a pg_dump older than the server."),
    ("provisioning_failed", 500, "Provisioning a business failed; running it again resumes it."),
    ("query_too_long", 400, "The search text may be at most 100 characters."),
    ("restore_failed", 500, "Restoring a backup failed; nothing was changed."),
    ("restore_file_conflict", 500, "A restored file could not be written as the backup holds it."),
    ("restore_in_transaction", 500, "Restore runs its own transactions."),
    (
        "restore_replace_other",
        400,
        "replace only restores over the business the backup was taken from.",
    ),
    (
        "restore_target_exists",
        409,
        "Restoring over an existing business needs replace (or a new slug).",
    ),
    ("schema_protected", 400, "Refusing to drop a protected schema (public or the template)."),
    ("slug_double_hyphen", 400, "The slug must not contain two hyphens in a row."),
    ("slug_ends_with_hyphen", 400, "The slug must not end with a hyphen."),
    (
        "slug_invalid_characters",
        400,
        "The slug may contain only lowercase letters a-z, digits 0-9 and hyphens.",
    ),
    ("slug_must_start_with_letter", 400, "The slug must start with a letter a-z."),
    ("slug_required", 400, "A slug is required."),
    ("slug_reserved", 400, "The slug is reserved by the platform."),
    ("slug_taken", 409, "Another business has this slug."),
    ("slug_too_long", 400, "The slug is too long."),
    ("template_dump_failed", 500, "pg_dump failed while reading the tenant template schema."),
    ("template_incomplete", 500, "The tenant template schema lacks migrations after migrating."),
    (
        "template_refresh_in_transaction",
        500,
        "The tenant template is refreshed outside a transaction only.",
    ),
    ("tenant_not_found", 404, "No business with this slug."),
    ("tenant_schema_missing", 409, "The business has no schema (to back up)."),
    ("tenant_suspended", 403, "The business's portal is suspended."),
    ("timezone_invalid", 400, "The time zone is not a known IANA zone."),
    ("unknown_host", 404, "No business is served at this host name."),
)

# theming
THEMING = _codes(
    "theming",
    ("contrast_failed", 400, "A theme's colours fail the WCAG contrast check."),
    ("dark_scheme_incomplete", 400, "Give every dark-scheme colour, or none."),
    ("font_not_offered", 400, "The font is not one of the offered fonts."),
    ("image_size_invalid", 400, "The image does not have the required size."),
    ("image_too_large", 400, "Images may be at most 5 MB."),
    ("image_type_mismatch", 400, "The image's content does not match its file name's extension."),
    ("image_type_unsupported", 400, "SVG images are not accepted; use PNG, JPEG or WebP."),
    (
        "theme_version_not_found",
        404,
        "This business never published a theme version of that number.",
    ),
    ("invalid_choice", 400, "The value is not one of the offered choices."),
    ("invalid_colour", 400, "A colour is not a valid CSS hex colour."),
    ("radius_out_of_range", 400, "The corner radius must be a whole number from 0 to 24."),
    ("unknown_field", 400, "An unknown field was given."),
)

# branded_apps
BRANDED_APPS = _codes(
    "branded_apps",
    (
        "app_icon_alpha_channel",
        400,
        "The app icon carries an (all-opaque) alpha channel; the build removes it.",
    ),
    (
        "app_icon_has_alpha",
        400,
        "The app icon has transparent pixels, which the App Store refuses.",
    ),
    (
        "app_icon_missing",
        400,
        "Upload a 1024x1024 PNG app icon in the theme (brand image “app_icon”).",
    ),
    ("app_icon_not_png", 400, "The app icon must be a PNG."),
    ("app_icon_size_invalid", 400, "The app icon is not 1024x1024 pixels."),
    ("app_icon_unreadable", 400, "The app icon is not a readable image."),
    ("app_id_invalid", 400, "The app identifier is not one both stores accept."),
    ("app_id_missing", 400, "Set the app identifier (e.g. com.acme.portal)."),
    (
        "app_source_changed",
        409,
        "The app's source changed since this build was requested; request a new build.",
    ),
    ("build_not_found", 404, "No build with this number for the app."),
    ("build_in_progress", 409, "Another build of this app is still running."),
    ("build_not_ready", 409, "The build has not succeeded (yet), so it has nothing to download."),
    ("build_not_retryable", 409, "Only a failed or stalled build can be retried."),
    ("description_missing", 400, "Write a description."),
    (
        "identifiers_locked",
        400,
        "The stores never allow the identifier to change after the first build.",
    ),
    ("invalid_fields", 400, "Several fields are invalid; `fields` says which and why."),
    ("keyword_too_short", 400, "A store keyword is too short."),
    ("keywords_missing", 400, "Keywords help families find the app in the App Store."),
    ("keywords_too_long", 400, "The store keywords are too long altogether."),
    ("link_expired", 410, "This download link has expired."),
    ("link_invalid", 404, "This download link is not valid."),
    ("listing_not_found", 404, "The app has no store listing in that locale."),
    ("listing_missing", 400, "The branded app has no store listing in its primary locale."),
    ("locale_invalid", 400, "Use a locale like en-US, es-MX or fr."),
    (
        "mobile_app_disabled",
        403,
        "The business has turned its mobile app off (portal settings): app sign-in and app "
        "tokens are refused, and no app build is prepared until it is turned on again.",
    ),
    ("name_missing", 400, "The app needs a name."),
    (
        "name_truncated_on_home_screen",
        400,
        "Home screens show about 12 characters under the icon; this name will be cut.",
    ),
    (
        "no_active_offerings",
        400,
        "Add at least one active class, camp or event: reviewers reject empty apps.",
    ),
    ("no_dark_scheme", 400, "The theme has no dark scheme; the app stays light in dark mode."),
    (
        "preflight_failed",
        400,
        "A branded app build was refused: its preflight found blocking problems.",
    ),
    (
        "primary_locale_required",
        409,
        "The primary locale's listing cannot be removed; choose another primary first.",
    ),
    ("privacy_url_missing", 400, "Both stores require a privacy policy URL (https)."),
    ("release_notes_missing", 400, "No release notes: the stores will show none for this version."),
    ("scheme_invalid", 400, "Use 2-40 lowercase letters and digits, starting with a letter."),
    ("screenshots_missing", 400, "The store listing has no screenshots yet."),
    ("short_description_missing", 400, "Google Play needs a short description (80 characters)."),
    ("splash_uses_icon", 400, "No logo in the theme: the splash screen shows the app icon."),
    ("support_url_missing", 400, "The App Store requires a support URL."),
    ("tenant_not_active", 409, "The business is suspended or not active."),
    ("text_not_plain", 400, "Use plain text, without HTML tags."),
    ("text_too_long", 400, "A store listing text is longer than the store allows."),
    (
        "theme_contrast_failed",
        400,
        "A theme colour pair fails the contrast the stores' reviewers expect.",
    ),
    ("theme_not_published", 404, "This business has no published theme."),
    ("url_not_https", 400, "Use a full https:// address."),
    ("version_invalid", 400, "Use a version like 1.0.0."),
)

# portal.accounts
ACCOUNTS = _codes(
    "portal.accounts",
    ("contact_not_found", 404, "No such emergency contact in the signed-in family."),
    ("country_invalid", 400, "Use a two-letter country code, e.g. US."),
    ("date_of_birth_in_future", 400, "The date of birth is in the future."),
    ("date_of_birth_invalid", 400, "Check the date of birth."),
    (
        "email_change_link_expired",
        400,
        "The email-change confirmation link is older than its lifetime; ask for a new one.",
    ),
    (
        "email_change_link_invalid",
        400,
        "The email-change confirmation link is not valid: altered, already used (the address "
        "changed since), or another business's.",
    ),
    ("email_invalid", 400, "Enter a valid email address."),
    (
        "email_taken",
        409,
        "An account with this email already exists. Sign in or reset your password.",
    ),
    ("email_unchanged", 400, "The new email address is the account's current one."),
    ("family_suspended", 403, "The family's account is suspended by the business."),
    ("first_name_required", 400, "A first name is required."),
    ("first_name_too_long", 400, "The first name is too long."),
    ("gender_invalid", 400, "The gender is not one of the offered choices."),
    ("last_name_required", 400, "A last name is required."),
    ("last_name_too_long", 400, "The last name is too long."),
    ("level_not_found", 400, "That level does not exist."),
    (
        "level_set_by_staff",
        403,
        "The business places students in levels itself (`families_may_set_levels` is off).",
    ),
    ("password_incorrect", 400, "The current password given to change it is not correct."),
    ("password_reused", 400, "Choose a password you have not used here before."),
    ("password_too_common", 400, "The password is too common."),
    (
        "password_too_weak",
        400,
        "The password is too short, too similar to the account or all digits.",
    ),
    ("phone_invalid", 400, "Enter a phone number."),
    ("phone_required", 400, "A phone number is required."),
    ("policies_not_accepted", 400, "Signing up needs every required policy accepted."),
    ("policies_required", 400, "Accept at least one policy."),
    ("policy_not_found", 400, "That policy does not exist."),
    ("policy_version_changed", 409, "A policy changed since the family read it; read it again."),
    ("primary_guardian_not_removable", 409, "The primary guardian cannot be removed."),
    ("primary_guardian_only", 403, "Only the primary guardian can change this."),
    ("referral_source_invalid", 400, "The referral source is not one of the offered choices."),
    ("referral_source_required", 400, "Tell us how you heard about us."),
    ("reset_link_invalid", 400, "This reset link is invalid or has expired. Ask for a new one."),
    ("signature_required", 400, "Accepting a policy needs a typed signature."),
    (
        "signup_answer_invalid",
        400,
        "An answer to a signup question is not one of its choices, not yes/no, or too long "
        "(`fields` names `question_<id>`).",
    ),
    (
        "signup_answer_required",
        400,
        "A signup question the business requires was not answered (`fields` names "
        "`question_<id>`).",
    ),
    (
        "signup_disabled",
        403,
        "This business does not take new accounts online. Please contact them to register.",
    ),
    ("student_required", 400, "The policy or product is per student: name the student."),
)

# portal.config
CONFIG = _codes(
    "portal.config",
    ("announcement_not_found", 404, "No such announcement of this business."),
    (
        "announcement_not_published",
        409,
        "The announcement is not published: publish it before emailing it.",
    ),
    ("portal_disabled", 503, "The business has switched its customer portal off."),
    ("signup_question_not_found", 404, "No such signup question of this business."),
)

# portal.enrollment
CATALOG = _codes(
    "portal.catalog",
    ("invalid_ticket", 400, "The waiting-room ticket is missing, forged or from another portal."),
    ("opening_closed", 409, "The registration opening has ended: its line takes nobody new."),
    ("opening_not_found", 404, "No such registration opening."),
    (
        "waiting_room_pass_required",
        403,
        "The offering is in a registration opening: add or check it out with the family's live "
        "waiting-room pass (`fields.opening` names the opening).",
    ),
)

ENROLLMENT = _codes(
    "portal.enrollment",
    ("already_enrolled", 409, "The student is already enrolled in the offering."),
    ("already_in_cart", 409, "The offering is already in the cart for this student."),
    ("already_waitlisted", 409, "The student is already on this waitlist."),
    ("busy", 503, "Many families are registering right now. Please try again in a moment."),
    ("cart_item_not_found", 404, "No such item in the family's cart."),
    (
        "enrollment_not_pending",
        409,
        "Only an enrollment pending approval can be decided (approved, denied) or cancelled.",
    ),
    (
        "enrollment_reserved_by_order",
        409,
        "The seat is reserved by an unpaid order until it lapses.",
    ),
    ("gender_restricted", 409, "The offering is for another gender than the student's."),
    ("hold_not_found", 404, "No such seat hold for the family."),
    ("inactive_family", 403, "Your account is inactive. Please contact us to enroll again."),
    ("level_mismatch", 409, "The offering is for another level than the student's."),
    ("level_required", 409, "The offering requires a level the student does not have."),
    ("new_families_closed", 403, "Registration is not open to new families. Please contact us."),
    ("new_families_not_yet", 403, "Registration is not open to new families yet."),
    ("no_offer", 409, "No seat is offered to the family on this waitlist yet."),
    ("not_on_waitlist", 409, "You are no longer on this waitlist."),
    ("offer_expired", 409, "The waitlist offer expired before it was accepted."),
    ("activity_not_found", 404, "No such item in the online activity inbox."),
    (
        "waitlist_not_waiting",
        409,
        "Staff can offer a seat only to a student still waiting (not offered, left or skipped).",
    ),
    (
        "camp_day_full",
        409,
        "A day chosen of a camp booked by the day or week has no seat left (`fields.days` "
        "names the full days; the others may still have seats).",
    ),
    (
        "camp_day_not_in_camp",
        400,
        "A day chosen is not one of the camp's days still to book (a meeting day of a per-day "
        "camp, the first day of a week of a per-week camp; `fields.days` names them).",
    ),
    (
        "camp_days_not_selectable",
        400,
        "Days were given for an offering booked as a whole (a whole camp, a class, an event).",
    ),
    (
        "camp_selection_locked",
        409,
        "How a camp is booked (whole, per day, per week) cannot change while families hold or "
        "have seats in it.",
    ),
    ("camp_days_required", 400, "A camp booked by the day or week needs the days chosen."),
    (
        "camp_booked_by_day",
        409,
        "A camp booked by the day or week cannot be joined this way (its waitlist, a transfer "
        "into it): the family adds it to the cart with the days it wants.",
    ),
    ("offering_ended", 409, "The offering has ended."),
    ("offering_full", 409, "The offering is full (the family can join its waitlist)."),
    (
        "offering_has_openings",
        409,
        "The offering has a free seat, so there is no waitlist to join.",
    ),
    ("offering_not_available", 409, "The offering is not open for registration."),
    ("offering_not_found", 404, "No such class, camp or event (or it is not published)."),
    (
        "past_due_balance",
        403,
        "Your account has a past-due balance. Please pay it before enrolling.",
    ),
    (
        "policy_acceptance_required",
        403,
        "The family must accept the current policies before enrolling.",
    ),
    (
        "priority_keyword_required",
        403,
        "During priority registration, enrolling needs the priority keyword.",
    ),
    (
        "priority_registration_only",
        403,
        "During priority registration, only returning families may enroll.",
    ),
    ("punch_pass_not_found", 404, "No such punch pass in the family."),
    ("registration_closed", 409, "Registration for the offering has closed."),
    ("registration_not_open", 409, "Registration for the offering has not opened yet."),
    ("schedule_clash", 409, "The student already has a class at that time."),
    ("student_inactive", 409, "The student's profile is not active."),
    ("student_not_found", 404, "No such student in the signed-in family."),
    ("too_old", 409, "The student is older than the offering's age range."),
    ("too_young", 409, "The student is younger than the offering's age range."),
    ("waitlist_entry_not_found", 404, "No such waitlist entry for the family."),
)

# portal.requests
REQUESTS = _codes(
    "portal.requests",
    ("absence_already_reported", 400, "This absence is already reported."),
    ("absence_too_late", 400, "It is too late to report this absence."),
    ("absences_disabled", 400, "This business does not take absence reports online."),
    ("deny_reason_required", 400, "A denied request needs the reason the family is told."),
    ("drop_already_requested", 400, "A drop is already requested for this enrollment."),
    ("drop_reason_required", 400, "Please tell us why you are dropping."),
    ("drop_too_soon", 400, "The drop date is sooner than the business's notice period."),
    ("drops_disabled", 400, "This business does not take drop requests online."),
    ("enrollment_not_active", 409, "This enrollment is not active."),
    ("enrollment_not_found", 404, "We could not find that enrollment."),
    ("makeup_class_full", 400, "The class has no makeup seats left on that date."),
    ("makeup_not_eligible", 400, "The makeup token is not valid for that kind of class."),
    ("makeup_token_expired", 400, "The makeup token has expired."),
    ("makeup_token_not_found", 404, "We could not find that makeup token."),
    ("makeup_token_used", 400, "This makeup token has already been used."),
    ("makeups_disabled", 400, "This business does not book makeups online."),
    ("not_a_meeting", 400, "The offering does not meet on that date."),
    ("request_not_found", 404, "We could not find that request."),
    (
        "request_not_pending",
        409,
        "The request is no longer pending (already decided, or cancelled): nothing changed.",
    ),
    ("same_offering", 400, "Pick a different class to transfer to."),
    ("transfer_already_requested", 409, "A transfer is already requested for this enrollment."),
    ("transfer_limit", 409, "This enrollment has already been transferred once."),
    ("transfer_next_level_only", 400, "Transfers may only move a student into the next level."),
    ("transfers_disabled", 400, "This business does not take transfer requests online."),
)

# portal.orders
ORDERS = _codes(
    "portal.orders",
    ("autopay_charge_not_found", 404, "No such autopay charge."),
    ("autopay_in_progress", 409, "The autopay charge is being collected right now."),
    ("cart_empty", 400, "Your cart is empty."),
    ("gift_certificate_empty", 409, "This gift certificate has no balance left."),
    ("hold_expired", 409, "A seat hold in the order has expired."),
    ("nothing_owed", 409, "Your account has no balance to pay."),
    ("order_already_paid", 409, "The order is already paid in full."),
    ("order_not_found", 404, "We could not find that order."),
    (
        "order_not_payable",
        409,
        "This order can no longer be paid: its seats were released. Add them to your cart again.",
    ),
    ("receipt_not_found", 404, "The order has no receipt: it is not paid (or not the family's)."),
    ("payment_method_not_found", 404, "We could not find that card."),
    (
        "payment_method_required",
        409,
        "A saved card is required (autopay) and this would leave none.",
    ),
)

# portal.billing
BILLING = _codes(
    "portal.billing",
    ("idempotency_key_reused", 409, "The idempotency key was used for another staff posting."),
    ("invalid_amount", 400, "The amount is not a valid money amount (like 12.50)."),
    ("ledger_entry_not_found", 404, "No such ledger entry."),
    ("not_a_payment", 409, "Only a payment ledger entry has a receipt."),
    ("card_declined", 402, "The card was declined by the payment provider."),
    (
        "invalid_signature",
        400,
        "A Stripe webhook's signature is missing, wrong, too old or dated in the future.",
    ),
    ("event_malformed", 400, "A signed Stripe webhook body is not an event as Stripe sends them."),
    ("payment_methods_disabled", 403, "This business does not keep payment methods on file."),
    ("payment_not_found", 404, "We could not find that payment."),
    ("payment_not_refundable", 409, "Only a succeeded payment can be refunded."),
    (
        "payment_provider_error",
        502,
        "The payment provider could not be reached. Please try again in a moment.",
    ),
    (
        "payments_not_configured",
        409,
        "This business does not take online payments yet. Please contact them to pay.",
    ),
    (
        "stripe_connect_unavailable",
        409,
        "Stripe onboarding cannot open here (a local Stripe stand-in, or a demo account).",
    ),
    ("stripe_demo_only", 409, "A demo Stripe connection exists only against the local stand-in."),
    ("refund_too_large", 400, "The refund is larger than what is left to refund on the payment."),
    ("webhooks_not_configured", 503, "Stripe webhooks are not configured (no signing secret)."),
)

# portal.store
STORE = _codes(
    "portal.store",
    ("buyer_name_required", 400, "Tell us your name."),
    ("gift_amount_invalid", 400, "The gift certificate amount is not one the business offers."),
    ("gift_certificate_invalid", 400, "That gift certificate code is not valid."),
    ("gift_certificates_disabled", 403, "This business does not sell gift certificates."),
    ("invalid_token", 404, "This link is not valid."),
    ("punch_pass_expired", 409, "The punch pass has expired."),
    ("punch_pass_not_active", 409, "The punch pass is not active (refunded or cancelled)."),
    ("punch_pass_not_eligible", 409, "The punch pass is for another student or kind of class."),
    ("punch_pass_product_not_found", 404, "We could not find that punch pass."),
    ("punch_pass_used_up", 409, "Every visit on this punch pass has been used."),
    ("punch_passes_disabled", 403, "This business does not sell punch passes."),
    ("recipient_name_required", 400, "A gift certificate needs its recipient's name."),
    ("too_many_attempts", 429, "Too many wrong codes. Please try again in 15 minutes."),
    ("visitor_purchase_disabled", 403, "Please sign in to buy a gift certificate."),
)

# portal.privacy
PRIVACY = _codes(
    "portal.privacy",
    ("deletion_already_completed", 409, "This deletion request is already completed."),
    (
        "deletion_already_requested",
        409,
        "You have already asked for your data to be deleted; the business will complete it.",
    ),
    ("deletion_request_not_found", 404, "No such data deletion request."),
    (
        "family_has_held_seats",
        409,
        "The family holds seats in a cart or an offer; release them first.",
    ),
    (
        "family_has_live_enrollments",
        409,
        "Drop or cancel the family's current enrollments before deleting its data.",
    ),
    ("reason_too_long", 400, "The reason may be at most 2000 characters."),
)

# portal.push
PUSH = _codes(
    "portal.push",
    ("device_not_found", 404, "We could not find that device."),
    ("platform_invalid", 400, "A device's platform is not ios, android or web."),
    ("push_token_invalid", 400, "The push token is not an Expo push token."),
)

# portal.staff
STAFF = _codes(
    "portal.staff",
    ("already_staff", 409, "The address invited is already on the staff (change its role)."),
    (
        "availability_slot_not_found",
        404,
        "No such private-lesson time for this member of the staff page.",
    ),
    (
        "email_is_a_family_login",
        409,
        "The address invited signs in as a family; staff need an address of their own.",
    ),
    ("not_a_staff_account", 403, "The account signing in to the staff console is not staff."),
    ("own_role_unchangeable", 409, "Nobody changes their own role (ask another owner)."),
    ("staff_not_found", 404, "We could not find that staff member."),
    ("staff_outranks_you", 403, "The staff member has more rights than the one changing them."),
    ("staff_profile_not_found", 404, "No such person on the business's staff page."),
    ("unknown_role", 400, "The role named is not owner, manager, front_desk or coach."),
)

# portal.families
FAMILIES = _codes(
    "portal.families",
    ("family_not_found", 404, "No such family."),
    ("guardian_has_no_login", 409, "The guardian has no active login to invite."),
    ("guardian_not_found", 404, "No such guardian in the family."),
    ("invalid_search", 400, "The family search text is too short or too long."),
)

# portal.attendance
ATTENDANCE = _codes(
    "portal.attendance",
    (
        "attendance_changed",
        409,
        "The student's attendance changed since it was read (another device); read it again.",
    ),
    ("attendance_too_early", 409, "Attendance is taken from the day of the meeting."),
    ("student_not_on_roster", 404, "The student is not on the roster of that meeting."),
)

# portal.reports
REPORTS = _codes(
    "portal.reports",
    ("report_not_found", 404, "No report with this name."),
)

# portal_api
API = _codes(
    "portal_api",
    ("confirmation_required", 400, "The request must be confirmed explicitly (confirm=true)."),
    ("login_required", 401, "The business shows its classes only to signed-in families."),
    ("not_a_family_account", 403, "This account does not belong to a family."),
)

# portal_web
WEB = _codes(
    "portal_web",
    ("csrf_failed", 403, "A form was posted without a valid CSRF token (the page was stale)."),
)

ALL = (
    PLATFORM,
    TENANTS,
    THEMING,
    BRANDED_APPS,
    ACCOUNTS,
    CONFIG,
    CATALOG,
    ENROLLMENT,
    REQUESTS,
    ORDERS,
    BILLING,
    STORE,
    PRIVACY,
    PUSH,
    STAFF,
    FAMILIES,
    ATTENDANCE,
    REPORTS,
    API,
    WEB,
)


def _collect() -> dict[str, ErrorCode]:
    registry: dict[str, ErrorCode] = {}
    for group in ALL:
        for entry in group:
            if entry.code in registry:
                raise ValueError(f"error code {entry.code!r} is registered twice")
            registry[entry.code] = entry
    return registry


REGISTRY: dict[str, ErrorCode] = _collect()


def markdown() -> str:
    """docs/errors.md: every code by app, with its status and meaning."""
    lines = [
        "# Error codes",
        "",
        "Every error the API (and the web pages, and the Stripe webhook) answers with is",
        '`{"code", "message", "fields"}`. `code` is stable and one of the codes below; `message`',
        "is for people and may change; `fields` maps inputs to their problems. Generated from",
        "`kernel/error_codes.py` (`python -m kernel.error_codes > docs/errors.md`);",
        "`tests/kernel/test_error_codes.py` fails when a raised code is not registered or",
        "this page is out of date.",
        "",
    ]
    for group in ALL:
        lines += [f"## {group[0].app}", "", "| code | status | meaning |", "|---|---|---|"]
        lines += [f"| `{e.code}` | {e.status} | {e.meaning} |" for e in group]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
