from __future__ import annotations

from django.conf import settings as django_settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from branded_apps.services import app_release
from portal.billing.gateway import online_payments_ready
from portal.config.models import PortalSettings
from portal.config.selectors import announcement_list, signup_question_list
from theming.services import theme_current

from .base import PortalApi
from .theme import theme_reference

PUBLIC_SETTINGS = (
    "mobile_app_enabled", "visitors_may_create_accounts", "show_classes", "show_camps",
    "show_events", "show_punch_passes", "list_visible_when_logged_out", "openings_display",
    "show_levels", "hold_timer_minutes", "registration_mode", "priority_registration_starts_at",
    "priority_registration_ends_at", "priority_registration_mode", "new_families_may_enroll",
    "new_family_enrollment_opens_at", "referral_source_required", "absences_enabled",
    "absence_notice_hours", "makeups_enabled", "makeup_token_expiry_days", "transfers_enabled",
    "transfers_next_level_only", "drops_enabled", "drop_notice_days", "drop_reason_required",
    "stored_payment_method_policy", "registration_fee_scope", "gift_certificates_enabled",
    "punch_passes_enabled", "force_start_on_meeting_date", "waitlist_offer_hours",
    "registration_year_start_month", "sibling_discount_percents", "multi_class_discount_percents",
    "staff_bios_visible", "staff_availability_visible", "welcome_heading", "welcome_message",
    "billing_day", "class_search_filters", "families_may_set_levels",
)  # fmt: skip


class PortalSettingsOutput(serializers.ModelSerializer):
    """The public portal settings (``PUBLIC_SETTINGS``), typed from the model's fields. Only
    describes the answer: the view builds it from the settings object."""

    priority_registration_starts_at = serializers.DateTimeField(
        allow_null=True, help_text="In the business's zone, with its offset."
    )
    priority_registration_ends_at = serializers.DateTimeField(allow_null=True)
    new_family_enrollment_opens_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        model = PortalSettings
        fields = PUBLIC_SETTINGS


class SignupQuestionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    # Names shared with DRF's Field attributes; these are output keys, not field options.
    label = serializers.CharField()  # type: ignore[assignment]
    help_text = serializers.CharField()  # type: ignore[assignment]
    kind = serializers.ChoiceField(choices=["text", "choice", "yes_no"])
    choices = serializers.ListField(child=serializers.CharField(), source="choice_list")
    required = serializers.BooleanField()  # type: ignore[assignment]


class AnnouncementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    kind = serializers.CharField()
    severity = serializers.CharField()
    link_url = serializers.CharField()
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)


class PortalConfigApi(PortalApi):
    """Everything a client needs to draw this business's portal."""

    @extend_schema(
        operation_id="portal_config",
        responses=inline_serializer(
            "PortalConfig",
            {
                "tenant": inline_serializer(
                    "PortalTenant",
                    {
                        "name": serializers.CharField(),
                        "slug": serializers.CharField(),
                        "timezone": serializers.CharField(),
                        "currency": serializers.CharField(),
                        "locale": serializers.CharField(),
                        "contact_email": serializers.CharField(),
                    },
                ),
                "settings": PortalSettingsOutput(),
                "referral_sources": serializers.ListField(child=serializers.CharField()),
                "signup_questions": SignupQuestionOutput(many=True),
                "announcements": AnnouncementOutput(many=True),
                "theme": inline_serializer(
                    "PortalTheme",
                    {
                        "version": serializers.IntegerField(),
                        "css_url": serializers.URLField(),
                        "tokens_url": serializers.URLField(),
                        "app_config_url": serializers.URLField(),
                        "logo_url": serializers.URLField(allow_null=True),
                    },
                    allow_null=True,
                ),
                "app": inline_serializer(
                    "PortalAppRelease",
                    {
                        "latest_build": serializers.IntegerField(
                            allow_null=True, help_text="The newest store-ready build's number."
                        ),
                        "latest_version": serializers.CharField(allow_null=True),
                    },
                ),
                "payments": inline_serializer(
                    "PortalPayments",
                    {
                        "publishable_key": serializers.CharField(
                            allow_null=True,
                            help_text="Stripe publishable key for the apps' payment sheet; null "
                            "when card payments are not set up.",
                        ),
                        "stripe_account": serializers.CharField(
                            allow_null=True, help_text="The business's Stripe account (Connect)."
                        ),
                        "saved_cards": serializers.BooleanField(
                            help_text="Whether families may keep cards on file."
                        ),
                    },
                ),
            },
        ),
    )
    def get(self, request):
        portal, tenant = self.portal, self.tenant
        settings = {name: getattr(portal, name) for name in PUBLIC_SETTINGS}
        for name in ("priority_registration_starts_at", "priority_registration_ends_at",
                     "new_family_enrollment_opens_at"):  # fmt: skip
            # In the business's zone, with its offset (2027-01-11T08:00:00-06:00).
            value = settings[name]
            settings[name] = timezone.localtime(value).isoformat() if value else None
        announcements = announcement_list(family=self.family_of_requester())
        return Response(
            {
                "tenant": {
                    "name": tenant.name,
                    "slug": tenant.schema_name,
                    "timezone": tenant.timezone,
                    "currency": tenant.currency,
                    "locale": tenant.locale,
                    "contact_email": tenant.contact_email,
                },
                "settings": settings,
                "referral_sources": portal.referral_source_list,
                "signup_questions": SignupQuestionOutput(signup_question_list(), many=True).data,
                "announcements": AnnouncementOutput(announcements, many=True).data,
                "theme": theme_reference(theme_current()),
                # Colours, layout, switches and announcements above reach installed apps at run
                # time; only a new release (a new binary) changes these.
                "app": app_release(),
                "payments": {
                    "publishable_key": (
                        django_settings.STRIPE_PUBLISHABLE_KEY if online_payments_ready() else None
                    ),
                    "stripe_account": tenant.stripe_account_id or None,
                    "saved_cards": portal.stored_payment_method_policy != "off",
                },
            }
        )


class AnnouncementListApi(PortalApi):
    @extend_schema(operation_id="announcements_list", responses=AnnouncementOutput(many=True))
    def get(self, request):
        announcements = announcement_list(family=self.family_of_requester())
        return Response(AnnouncementOutput(announcements, many=True).data)
