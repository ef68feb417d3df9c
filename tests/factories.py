"""factory_boy factories for the portal's tenant-schema models. Create inside a tenant's
schema (``tenant_context`` or the ``in_tenant_a`` fixture)."""

from __future__ import annotations

from datetime import date, time, timedelta

import factory
from django.utils import timezone

from kernel.users.models import User
from portal.accounts.models import EmergencyContact, Family, Guardian, Policy, Student
from portal.catalog.models import Level, Location, Offering, Program, StaffProfile, Term
from portal.config.models import Announcement

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Program {n}")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Location {n}")
    city = "Springfield"


class LevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Level

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Level {n}")
    position = factory.Sequence(lambda n: n + 1)


class TermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Term

    name = factory.Sequence(lambda n: f"Term {n}")
    start_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
    end_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=90))


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffProfile

    display_name = factory.Sequence(lambda n: f"Coach {n}")
    title = "Coach"
    bio = "Loves teaching."


class OfferingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offering
        skip_postgeneration_save = True

    kind = Offering.Kind.CLASS
    name = factory.Sequence(lambda n: f"Offering {n}")
    program = factory.SubFactory(ProgramFactory)
    location = factory.SubFactory(LocationFactory)
    capacity = 10
    start_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
    end_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=70))
    start_time = time(16, 0)
    end_time = time(17, 0)
    weekdays = factory.LazyFunction(lambda: [0])
    tuition = 12000
    registration_fee = 2500

    @factory.post_generation
    def levels(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.levels.set(extracted)

    @factory.post_generation
    def instructors(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.instructors.set(extracted)


class FamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Family

    name = factory.Sequence(lambda n: f"Family {n}")


class GuardianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardian

    family = factory.SubFactory(FamilyFactory)
    user = factory.SubFactory(UserFactory, email=factory.SelfAttribute("..email"))
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Parent{n}")
    email = factory.Sequence(lambda n: f"guardian{n}@example.test")
    is_primary = True


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    family = factory.SubFactory(FamilyFactory)
    first_name = factory.Sequence(lambda n: f"Kid{n}")
    last_name = "Smith"
    date_of_birth = date(2018, 5, 1)
    gender = Student.Gender.FEMALE
    medical_notes = "Peanut allergy"


class EmergencyContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmergencyContact

    family = factory.SubFactory(FamilyFactory)
    name = "Grandma"
    phone = "555-0100"


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy

    title = factory.Sequence(lambda n: f"Policy {n}")
    body = "Be kind. Pay on time."


class AnnouncementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Announcement

    title = factory.Sequence(lambda n: f"Announcement {n}")
    body = "News"
