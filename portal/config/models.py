"""Per-tenant portal settings: one typed row per tenant schema, and announcements.

Every switch a business sets lives here as a field with a default, validation and help text;
the web portal, the mobile app and branded apps all read the same row. Later features add
fields here, never elsewhere."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Class-search filters a business may show, in the default order (the search form, the apps'
# filter sheet). "dates" is the pair from/to.
SEARCH_FILTERS = (
    "kind", "program", "location", "level", "instructor", "term", "day", "time_of_day", "age",
    "gender", "dates", "has_openings",
)  # fmt: skip


class PortalSettings(models.Model):
    SINGLETON_ID = 1

    class OpeningsDisplay(models.TextChoices):
        NUMBERS = "numbers", "Number of openings"
        FULL_OPEN = "full_open", "FULL / OPEN"

    class RegistrationMode(models.TextChoices):
        AUTO_APPROVE = "auto_approve", "Enroll at once when requirements are met"
        REQUEST = "request", "Staff approve each request first"

    class PriorityMode(models.TextChoices):
        KEYWORD = "keyword", "Families with a keyword"
        RETURNING = "returning", "Returning families"
        KEYWORD_OR_RETURNING = "keyword_or_returning", "Keyword holders and returning families"

    class PastDuePolicy(models.TextChoices):
        ALLOW = "allow", "Allow enrollment"
        BLOCK = "block", "Block enrollment"
        REQUEST = "request", "Turn enrollment into a request"

    class PaymentMethodPolicy(models.TextChoices):
        OFF = "off", "Do not store payment methods"
        OPTIONAL = "optional", "Families may save a payment method"
        REQUIRED = "required", "A saved method for autopay is required"

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)

    # --- Portal switches ----------------------------------------------------------------
    portal_enabled = models.BooleanField(
        default=True,
        help_text="When off, families see “Our Customer Portal is currently unavailable” and "
        "nobody can log in, enroll, request or pay.",
    )
    mobile_app_enabled = models.BooleanField(
        default=True, help_text="Families may use the mobile app and this business's own app."
    )
    visitors_may_create_accounts = models.BooleanField(
        default=True, help_text="Visitors may create a family account online."
    )
    show_classes = models.BooleanField(default=True, help_text="List weekly classes.")
    show_camps = models.BooleanField(default=True, help_text="List camps.")
    show_events = models.BooleanField(default=True, help_text="List events.")
    show_punch_passes = models.BooleanField(default=True, help_text="List punch passes for sale.")
    list_visible_when_logged_out = models.BooleanField(
        default=True, help_text="Visitors who are not signed in may browse the class list."
    )
    openings_display = models.CharField(
        max_length=10,
        choices=OpeningsDisplay.choices,
        default=OpeningsDisplay.NUMBERS,
        help_text="Show the number of openings, or only FULL / OPEN.",
    )
    show_levels = models.BooleanField(default=True, help_text="Show the levels of each offering.")
    families_may_set_levels = models.BooleanField(
        default=False,
        help_text="Parents may choose or change their students' levels; when off, staff place "
        "each student in a level.",
    )
    class_search_filters = models.CharField(
        max_length=200,
        default=",".join(SEARCH_FILTERS),
        help_text="The class-search filters families see, in this order, comma-separated; leave "
        "one out to hide it. Known filters: " + ", ".join(SEARCH_FILTERS) + ".",
    )
    class_search_rate_limit = models.PositiveIntegerField(
        default=600,
        validators=[MinValueValidator(10), MaxValueValidator(100_000)],
        help_text="Fair-share floor: page views and searches a minute for the whole portal "
        "that are never shed, even while the platform is over its latency target and this "
        "portal over its share (10-100,000). Nothing is shed while the platform keeps its target.",
    )

    # --- Checkout reservation timer ----------------------------------------------------
    hold_timer_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="Minutes a seat stays held in a cart before it is released (1-120).",
    )

    # --- Registration ------------------------------------------------------------------
    registration_mode = models.CharField(
        max_length=20,
        choices=RegistrationMode.choices,
        default=RegistrationMode.AUTO_APPROVE,
        help_text="Default for every offering.",
    )
    priority_registration_starts_at = models.DateTimeField(
        null=True, blank=True, help_text="Start of the priority-registration window."
    )
    priority_registration_ends_at = models.DateTimeField(
        null=True, blank=True, help_text="End of the window; after it everyone may register."
    )
    priority_registration_mode = models.CharField(
        max_length=25,
        choices=PriorityMode.choices,
        default=PriorityMode.RETURNING,
        help_text="Who may register during the priority window.",
    )
    priority_keywords = models.TextField(
        blank=True, help_text="Keywords (one per line) that let a family register early."
    )
    new_families_may_enroll = models.BooleanField(
        default=True, help_text="Families without any past enrollment may enroll."
    )
    new_family_enrollment_opens_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="If set, new families may enroll only from this moment (e.g. after the "
        "returning families' window).",
    )
    inactive_families_may_enroll = models.BooleanField(
        default=True, help_text="Families marked inactive may enroll."
    )
    pending_requests_count_against_openings = models.BooleanField(
        default=False, help_text="Pending requests and transfers hold a seat."
    )
    enrollment_cutoff_minutes_after_start = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(60 * 24 * 365)],
        help_text="Online enrollment closes this many minutes after an offering's first meeting "
        "starts (0: at the start). Empty: families may join until it ends, from the next "
        "meeting.",
    )
    force_start_on_meeting_date = models.BooleanField(
        default=True,
        help_text="A family joining a class that has started begins on a real meeting date, "
        "never between meetings.",
    )
    referral_source_required = models.BooleanField(
        default=False, help_text="Ask how the family heard about the business at signup."
    )
    referral_sources = models.TextField(
        blank=True, help_text="Choices offered at signup, one per line (e.g. Friend, Google)."
    )

    waitlist_offer_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
        help_text="Hours a family has to accept a waitlist offer before it goes to the next "
        "family (1-336).",
    )

    # --- Requests ----------------------------------------------------------------------
    absences_enabled = models.BooleanField(default=True, help_text="Families may report absences.")
    absence_notice_hours = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(24 * 30)],
        help_text="Absences must be reported at least this many hours before the class.",
    )
    absences_auto_approve = models.BooleanField(
        default=True, help_text="Approve reported absences without staff review."
    )
    absence_issues_makeup_token = models.BooleanField(
        default=True, help_text="An approved absence gives the student a makeup token."
    )
    makeups_enabled = models.BooleanField(
        default=True, help_text="Families may book makeup classes with their tokens."
    )
    makeup_token_expiry_days = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Days a makeup token stays valid (1-365).",
    )
    makeup_seats_per_class = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(100)],
        help_text="Extra makeup students a class may take beyond its capacity.",
    )
    transfers_enabled = models.BooleanField(
        default=True, help_text="Families may ask to move an enrollment to another class."
    )
    transfers_next_level_only = models.BooleanField(
        default=False, help_text="Transfers may only move a student to the next level."
    )
    one_transfer_per_enrollment = models.BooleanField(
        default=True, help_text="An enrollment may be transferred once."
    )
    drops_enabled = models.BooleanField(
        default=True, help_text="Families may ask to drop an enrollment."
    )
    drop_notice_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MaxValueValidator(365)],
        help_text="A drop takes effect at least this many days after it is requested.",
    )
    drop_reason_required = models.BooleanField(
        default=True, help_text="Families must say why they drop."
    )

    # --- Money -------------------------------------------------------------------------
    stored_payment_method_policy = models.CharField(
        max_length=10,
        choices=PaymentMethodPolicy.choices,
        default=PaymentMethodPolicy.OPTIONAL,
        help_text="Whether families may, or must, keep a payment method on file for autopay.",
    )
    billing_day = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="Day of the month (1-28) autopay bills monthly tuition.",
    )
    autopay_retry_days = models.CharField(
        max_length=50,
        default="1,3,7",
        help_text="Days after a failed autopay charge to try again, comma-separated (e.g. 1,3,7).",
    )
    past_due_policy = models.CharField(
        max_length=10,
        choices=PastDuePolicy.choices,
        default=PastDuePolicy.BLOCK,
        help_text="What happens when a family with a past-due balance enrolls.",
    )
    past_due_after_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MaxValueValidator(365)],
        help_text="A charge the family has not paid becomes past due this many days after it is "
        "posted to the ledger (payments settle the oldest charges first); 0: at once.",
    )

    class RegistrationFeeScope(models.TextChoices):
        FAMILY = "family", "Once per family"
        STUDENT = "student", "Once per student"

    registration_fee_scope = models.CharField(
        max_length=10,
        choices=RegistrationFeeScope.choices,
        default=RegistrationFeeScope.FAMILY,
        help_text="Charge an offering's registration fee once per family or once per student "
        "in each term.",
    )
    registration_year_start_month = models.PositiveSmallIntegerField(
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="Month (1-12) a registration year starts; the registration fee is charged "
        "once per registration year.",
    )
    sibling_discount_percents = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="Discount on each additional student's tuition in one order, by position: "
        "“0,10,15” gives the 2nd student 10% and the 3rd and later 15%. Empty: none.",
    )
    multi_class_discount_percents = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="Discount for a student's additional classes in one order, by position: "
        "“0,10,20” gives the 2nd class 10% and the 3rd and later 20%. Empty: none.",
    )
    gift_certificates_enabled = models.BooleanField(
        default=False, help_text="Sell gift certificates and accept them at checkout."
    )
    gift_certificates_visitors_may_buy = models.BooleanField(
        default=False, help_text="Visitors without an account may buy gift certificates."
    )
    gift_certificate_amounts = models.CharField(
        max_length=100,
        blank=True,
        default="2500,5000,10000",
        help_text="Fixed amounts offered, in minor units, comma-separated (e.g. 2500,5000).",
    )
    gift_certificate_min = models.PositiveIntegerField(
        default=1000,
        validators=[MinValueValidator(100)],
        help_text="Smallest amount a family may choose, in minor units.",
    )
    gift_certificate_max = models.PositiveIntegerField(
        default=50000,
        validators=[MaxValueValidator(10_000_00)],
        help_text="Largest amount a family may choose, in minor units.",
    )
    punch_passes_enabled = models.BooleanField(
        default=False, help_text="Sell punch passes (N visits) and let families redeem them."
    )

    # --- Staff pages -------------------------------------------------------------------
    staff_bios_visible = models.BooleanField(default=True, help_text="Show staff bios and photos.")
    staff_availability_visible = models.BooleanField(
        default=False, help_text="Show staff availability for private lessons."
    )

    # --- Home page ---------------------------------------------------------------------
    welcome_heading = models.CharField(
        max_length=120, blank=True, help_text="Heading on the portal's home page."
    )
    welcome_message = models.TextField(
        max_length=2000, blank=True, help_text="Plain text shown under the heading."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "portal settings"
        verbose_name_plural = "portal settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="portal_settings_singleton")
        ]

    def __str__(self) -> str:
        return "Portal settings"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.id != self.SINGLETON_ID:
            errors["id"] = "There is exactly one portal settings row per business."
        starts, ends = self.priority_registration_starts_at, self.priority_registration_ends_at
        if bool(starts) != bool(ends):
            errors["priority_registration_ends_at"] = (
                "Give both the start and the end of the priority window, or neither."
            )
        elif starts and ends and ends <= starts:
            errors["priority_registration_ends_at"] = "The window must end after it starts."
        if (
            starts
            and self.priority_registration_mode != self.PriorityMode.RETURNING
            and not self.keyword_list
        ):
            errors["priority_keywords"] = "Give at least one keyword for keyword registration."
        for name in ("sibling_discount_percents", "multi_class_discount_percents"):
            try:
                self.percent_schedule(getattr(self, name))
            except ValueError as exc:
                errors[name] = str(exc)
        try:
            _ = self.retry_day_list
        except ValueError:
            errors["autopay_retry_days"] = "Use whole days from 1 to 60, comma-separated."
        if self.gift_certificate_min > self.gift_certificate_max:
            errors["gift_certificate_max"] = "The largest amount must not be below the smallest."
        try:
            _ = self.gift_amount_list
        except ValueError:
            errors["gift_certificate_amounts"] = (
                "Use whole amounts in minor units, comma-separated."
            )
        try:
            _ = self.search_filter_list
        except ValueError as exc:
            errors["class_search_filters"] = str(exc)
        if self.referral_source_required and not self.referral_source_list:
            errors["referral_sources"] = "List the choices families pick their referral from."
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def _lines(text: str) -> list[str]:
        return [line.strip() for line in (text or "").splitlines() if line.strip()]

    @staticmethod
    def percent_schedule(text: str) -> list[int]:
        """“0,10,15” -> [0, 10, 15]; each a whole percent from 0 to 100."""
        if not (text or "").strip():
            return []
        out = []
        for part in text.split(","):
            part = part.strip()
            if not part.isdigit() or not 0 <= int(part) <= 100:
                raise ValueError("Use whole percentages from 0 to 100 separated by commas.")
            out.append(int(part))
        return out

    def discount_percent(self, schedule_field: str, position: int) -> int:
        """The percent off for the item at ``position`` (1-based) under a schedule; positions
        past the end of the schedule get its last value."""
        schedule = self.percent_schedule(getattr(self, schedule_field))
        if not schedule or position < 1:
            return 0
        return schedule[min(position, len(schedule)) - 1]

    @property
    def retry_day_list(self) -> list[int]:
        parts = [p.strip() for p in (self.autopay_retry_days or "").split(",") if p.strip()]
        if any(not p.isdigit() or not 1 <= int(p) <= 60 for p in parts):
            raise ValueError("bad retry days")
        return [int(p) for p in parts]

    @property
    def gift_amount_list(self) -> list[int]:
        parts = [p.strip() for p in (self.gift_certificate_amounts or "").split(",") if p.strip()]
        if any(not p.isdigit() or int(p) <= 0 for p in parts):
            raise ValueError("bad amounts")
        return [int(p) for p in parts]

    @property
    def search_filter_list(self) -> list[str]:
        """The filters families see, in order (``ValueError`` on an unknown or repeated one)."""
        names = [p.strip() for p in (self.class_search_filters or "").split(",") if p.strip()]
        for name in names:
            if name not in SEARCH_FILTERS:
                raise ValueError(
                    f"Unknown filter “{name[:40]}”. Use some of: {', '.join(SEARCH_FILTERS)}."
                )
        if len(set(names)) != len(names):
            raise ValueError("Name each filter once.")
        return names

    @property
    def keyword_list(self) -> list[str]:
        return self._lines(self.priority_keywords)

    @property
    def referral_source_list(self) -> list[str]:
        return self._lines(self.referral_sources)

    def priority_window_open(self, now=None) -> bool:
        now = now or timezone.now()
        starts, ends = self.priority_registration_starts_at, self.priority_registration_ends_at
        return bool(starts and ends and starts <= now < ends)

    def shown_kinds(self) -> list[str]:
        return [
            kind
            for kind, shown in (
                ("class", self.show_classes),
                ("camp", self.show_camps),
                ("event", self.show_events),
            )
            if shown
        ]


class AnnouncementQuerySet(models.QuerySet):
    def in_effect(self, now=None):
        now = now or timezone.now()
        return self.filter(
            models.Q(starts_at__isnull=True) | models.Q(starts_at__lte=now),
            models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=now),
            is_published=True,
        )


class Announcement(models.Model):
    class Kind(models.TextChoices):
        BANNER = "banner", _("Banner")
        NEWS = "news", _("News item")

    class Severity(models.TextChoices):
        INFO = "info", _("Information")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        LOGGED_IN = "logged_in", _("Signed-in families")
        PROGRAMS = "programs", _("Families enrolled in chosen programs")

    title = models.CharField(max_length=150)
    body = models.TextField(blank=True, max_length=5000)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BANNER)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.INFO)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.EVERYONE)
    programs = models.ManyToManyField(
        "portal_catalog.Program",
        blank=True,
        related_name="announcements",
        help_text="For the “chosen programs” audience.",
    )
    link_url = models.URLField(blank=True)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Empty: from now on.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until removed.")
    is_published = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AnnouncementQuerySet.as_manager()

    # Not stored: the programs' ids (selectors.announcement_banners) and the email's progress
    # when announcements.announcement_save queued it.
    program_ids: frozenset[int] | set[int] = frozenset()
    email_progress: dict[str, int] | None = None

    class Meta:
        ordering = ("sort_order", "-starts_at", "-created_at", "pk")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The announcement must end after it starts."})


class SignupQuestion(models.Model):
    """A question of the business's own that families answer when they create an account (on
    the web portal and in the apps); answers are kept per family (accounts.SignupAnswer) and
    shown to staff on the family's page."""

    class Kind(models.TextChoices):
        TEXT = "text", "Short answer"
        CHOICE = "choice", "One of a list"
        YES_NO = "yes_no", "Yes or no"

    label = models.CharField(max_length=150, help_text="The question as families read it.")
    help_text = models.CharField(
        max_length=300, blank=True, help_text="Optional hint shown under the question."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.TextField(
        blank=True, max_length=2000, help_text="For “one of a list”: the choices, one per line."
    )
    required = models.BooleanField(default=False, help_text="Families must answer it.")
    is_active = models.BooleanField(default=True, help_text="Asked at signup.")
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("sort_order", "pk")

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in (self.choices or "").splitlines() if line.strip()]

    @property
    def field_name(self) -> str:
        """The answer's input name on signup forms and in error ``fields``."""
        return f"question_{self.pk}"

    def clean(self) -> None:
        if self.kind == self.Kind.CHOICE and len(self.choice_list) < 2:
            raise ValidationError({"choices": "Give at least two choices, one per line."})
        if any(len(c) > 100 for c in self.choice_list):
            raise ValidationError({"choices": "Keep each choice under 100 characters."})


class AnnouncementEmail(models.Model):
    """One family's copy of an announcement sent by email. The row is created when staff ask to
    email the audience (one per family, under a unique constraint, so asking twice queues
    nobody twice) and marked sent by the task that emails the family's guardians (a second
    delivery of the task finds it sent and emails nobody)."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="emails")
    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.CASCADE, related_name="announcement_emails"
    )
    queued_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveSmallIntegerField(
        default=0, help_text="Guardians the email went to."
    )

    class Meta:
        ordering = ("queued_at", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("announcement", "family"), name="config_announcement_email_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.announcement} -> {self.family}"
