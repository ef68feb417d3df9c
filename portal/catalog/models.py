"""What a business offers: programs, locations, ordered levels, terms, staff, and offerings of
three kinds (weekly classes, camps, one-off events). Times are wall-clock times in the tenant's
time zone; money is integer minor units in the tenant's currency."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from kernel.storage import staff_photo_upload_to

WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"),
            (5, "Saturday"), (6, "Sunday")]  # fmt: skip
WEEKDAY_CODES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Program(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("sort_order", "name")

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    name = models.CharField(max_length=100, unique=True)
    address = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Level(models.Model):
    """Skill levels in teaching order: transfers "to the next level" follow ``position``."""

    name = models.CharField(max_length=100)
    program = models.ForeignKey(
        Program,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="levels",
        help_text="Leave empty for a level shared by every program.",
    )
    position = models.PositiveSmallIntegerField(help_text="1 is the first level.")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ("program__name", "position")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "position"], name="catalog_level_position_unique"
            ),
            models.UniqueConstraint(fields=["program", "name"], name="catalog_level_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.program.name}: {self.name}" if self.program_id else self.name


class Term(models.Model):
    """A session or term (Fall 2026, Summer camps 2027)."""

    name = models.CharField(max_length=100, unique=True)
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ("start_date", "name")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="catalog_term_dates"
            )
        ]

    def __str__(self) -> str:
        return self.name


class StaffProfile(models.Model):
    display_name = models.CharField(max_length=100)
    title = models.CharField(max_length=100, blank=True, help_text="e.g. Head coach")
    bio = models.TextField(blank=True)
    # Under the business's storage prefix, served at /media/ on its host (kernel.storage).
    photo = models.ImageField(upload_to=staff_photo_upload_to, blank=True)
    # DO_NOTHING: the user table also exists in the public schema, where this table does not;
    # deleting a user detaches its profile in portal.catalog.signals instead.
    user = models.OneToOneField(
        "users.User",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="staff_profile",
    )
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("sort_order", "display_name")

    def __str__(self) -> str:
        return self.display_name


class AvailabilitySlot(models.Model):
    """When a staff member can teach private lessons."""

    staff = models.ForeignKey(StaffProfile, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    start_time = models.TimeField()
    end_time = models.TimeField()
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("weekday", "start_time")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="catalog_availability_times",
            )
        ]

    def __str__(self) -> str:
        times = f"{self.start_time:%H:%M}-{self.end_time:%H:%M}"
        return f"{self.staff}: {self.get_weekday_display()} {times}"


class OfferingQuerySet(models.QuerySet):
    _with_search_related = False

    def published(self):
        return self.filter(status=Offering.Status.PUBLISHED)

    def with_search_related(self):
        """Levels (with their program, by position) and active instructors of every row,
        fetched with one query each when the rows are (``selectors.attach_search_related``):
        what ``prefetch_related`` does, without a filtered queryset built per row."""
        clone = self._chain()
        clone._with_search_related = True
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._with_search_related = self._with_search_related
        return clone

    def compiled_query_plain(self) -> bool:
        """Rows fetched as any queryset's (``kernel.queries.CompiledQuery`` may make them)."""
        return not self._with_search_related

    def _fetch_all(self) -> None:
        fetching = self._result_cache is None
        super()._fetch_all()
        if (
            fetching
            and self._with_search_related
            and self._iterable_class is models.query.ModelIterable
        ):
            from .selectors import attach_search_related

            attach_search_related(self._result_cache)


class Offering(models.Model):
    class Kind(models.TextChoices):
        CLASS = "class", "Class"
        CAMP = "camp", "Camp"
        EVENT = "event", "Event"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    class Gender(models.TextChoices):
        ANY = "any", "Any"
        FEMALE = "female", "Girls only"
        MALE = "male", "Boys only"

    class CampSelection(models.TextChoices):
        WHOLE = "whole", "Whole camp"
        DAY = "day", "Per day"
        WEEK = "week", "Per week"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CLASS, db_index=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PUBLISHED, db_index=True
    )
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="offerings")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="offerings"
    )
    term = models.ForeignKey(
        Term, null=True, blank=True, on_delete=models.PROTECT, related_name="offerings"
    )
    levels = models.ManyToManyField(
        Level, blank=True, related_name="offerings", help_text="Levels that may join; empty: any."
    )
    instructors = models.ManyToManyField(StaffProfile, blank=True, related_name="offerings")

    capacity = models.PositiveIntegerField(validators=[MaxValueValidator(10_000)])
    min_age = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(120)],
        help_text="Youngest age in years, on the start date.",
    )
    max_age = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(120)],
        help_text="Oldest age in years, on the start date.",
    )
    gender = models.CharField(max_length=10, choices=Gender.choices, default=Gender.ANY)

    start_date = models.DateField()
    end_date = models.DateField()
    start_time = models.TimeField()
    end_time = models.TimeField()
    weekdays = ArrayField(
        models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)]),
        default=list,
        blank=True,
        help_text="Meeting days, 0 = Monday. Classes meet weekly on these days; camps run on "
        "these days (empty: Monday to Friday); events ignore them.",
    )
    camp_selection = models.CharField(
        max_length=10,
        choices=CampSelection.choices,
        default=CampSelection.WHOLE,
        help_text="Camps: whether families enroll for the whole camp, per day or per week.",
    )
    camp_unit_price = models.PositiveIntegerField(
        default=0,
        help_text="Camps booked per day or per week: the price of one day (or one week), in "
        "minor units (cents). Families pay it for each day or week they choose.",
    )

    class TuitionBilling(models.TextChoices):
        TERM = "term", "Once, at registration"
        MONTHLY = "monthly", "Monthly (first month at registration, then autopay)"

    tuition = models.PositiveIntegerField(
        default=0, help_text="In minor units (cents): for the whole offering, or per month."
    )
    tuition_billing = models.CharField(
        max_length=10,
        choices=TuitionBilling.choices,
        default=TuitionBilling.TERM,
        help_text="Monthly tuition is billed on the portal's billing day to the family's saved "
        "card.",
    )
    registration_fee = models.PositiveIntegerField(default=0, help_text="In minor units (cents).")
    deposit = models.PositiveIntegerField(
        default=0, help_text="Due at registration, in minor units; the rest is billed later."
    )
    registration_mode = models.CharField(
        max_length=20,
        blank=True,
        choices=[("auto_approve", "Enroll at once"), ("request", "Staff approve first")],
        help_text="Overrides the portal's default registration mode for this offering.",
    )
    registration_opens_at = models.DateTimeField(null=True, blank=True)
    registration_closes_at = models.DateTimeField(null=True, blank=True)

    # Maintained by the enrollment services under the offering's row lock; search reads them.
    seats_taken = models.PositiveIntegerField(default=0, editable=False)
    waitlist_count = models.PositiveIntegerField(default=0, editable=False)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OfferingQuerySet.as_manager()

    class Meta:
        ordering = ("start_date", "start_time", "name", "pk")
        indexes = [models.Index(fields=["status", "kind", "start_date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="catalog_offering_dates",
            ),
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="catalog_offering_times",
            ),
            models.CheckConstraint(
                condition=models.Q(min_age__isnull=True)
                | models.Q(max_age__isnull=True)
                | models.Q(max_age__gte=models.F("min_age")),
                name="catalog_offering_ages",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Store the days an offering actually meets, so that searching by day is one
        # array-overlap test for every kind.
        self.weekdays = self.meeting_days()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "The end date must not be before the start date."
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            errors["end_time"] = "The end time must be after the start time."
        if self.min_age is not None and self.max_age is not None and self.max_age < self.min_age:
            errors["max_age"] = "The oldest age must not be below the youngest."
        if self.kind == self.Kind.CLASS and not self.weekdays:
            errors["weekdays"] = "A class needs at least one meeting day."
        if self.kind == self.Kind.EVENT and self.start_date != self.end_date:
            errors["end_date"] = "An event takes place on one date."
        if self.deposit and self.tuition and self.deposit > self.tuition:
            errors["deposit"] = "The deposit cannot be more than the tuition."
        if (
            self.registration_opens_at
            and self.registration_closes_at
            and self.registration_closes_at <= self.registration_opens_at
        ):
            errors["registration_closes_at"] = "Registration must close after it opens."
        if self.camp_selection != self.CampSelection.WHOLE and self.kind != self.Kind.CAMP:
            errors["camp_selection"] = "Only a camp can be booked per day or per week."
        if len(set(self.weekdays or [])) != len(self.weekdays or []):
            errors["weekdays"] = "Each meeting day may appear once."
        if errors:
            raise ValidationError(errors)

    @property
    def openings(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.openings == 0

    def meeting_days(self) -> list[int]:
        if self.kind == self.Kind.EVENT:
            return [self.start_date.weekday()]
        if self.kind == self.Kind.CAMP and not self.weekdays:
            return [0, 1, 2, 3, 4]
        return sorted(self.weekdays)

    @property
    def days_selectable(self) -> bool:
        """A camp families book by the day or by the week (portal.enrollment.camp_days)."""
        return self.kind == self.Kind.CAMP and self.camp_selection != self.CampSelection.WHOLE

    def meetings(self, *, limit: int = 500) -> list[date]:
        """Every date the offering meets, in order (at most ``limit``)."""
        if self.kind == self.Kind.EVENT:
            return [self.start_date]
        days = set(self.meeting_days())
        out: list[date] = []
        current = self.start_date
        while current <= self.end_date and len(out) < limit:
            if current.weekday() in days:
                out.append(current)
            current += timedelta(days=1)
        return out


def age_on(born: date, on: date) -> int:
    """Whole years between a birth date and a day (the age a student has on that day)."""
    years = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return years


class RegistrationOpening(models.Model):
    """A registration day the business schedules: from ``opens_at`` (entered and shown in the
    business's time zone) its offerings can only be added to a cart, or checked out, with a
    waiting-room pass (portal.catalog.waiting_room). Families who arrive early wait in a
    pre-queue that is shuffled at random at the opening; later arrivals queue in order."""

    name = models.CharField(max_length=100)
    opens_at = models.DateTimeField(help_text="In the business's time zone.")
    ends_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="From then on the offerings need no pass. Empty: until staff end it.",
    )
    offerings = models.ManyToManyField(Offering, related_name="registration_openings")
    admit_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text="Families let in per minute. Empty: as fast as checkout can take them (a "
        "family is let in each time one finishes checking out or lets its pass lapse, with "
        "at most “checkout slots” families checking out at once).",
    )
    checkout_slots = models.PositiveIntegerField(
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text="Families checking out at the same time when admission follows checkout.",
    )
    pass_minutes = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="How long an admitted family's pass lasts (one per family account).",
    )
    paused = models.BooleanField(default=False, help_text="Nobody new is let in while paused.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-opens_at",)
        permissions = [
            ("manage_registration_openings", "Can watch and pause registration-opening queues"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.ends_at and self.ends_at <= self.opens_at:
            raise ValidationError({"ends_at": "The opening must end after it opens."})

    def in_effect(self, now) -> bool:
        return self.ends_at is None or now < self.ends_at
