"""Medical details (students' notes, families' emergency contacts) reach no staff path without
``portal_privacy.view_medical``: no admin lookup, list filter, search field, column or ordering
touches them (so a changelist cannot be used as an oracle, character by character), no staff
API or export returns them; with the permission every read and medical search is audited."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client, RequestFactory
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.accounts.admin import StudentAdmin
from portal.accounts.models import EmergencyContact, Family, Guardian, Student
from portal.enrollment.models import Enrollment
from portal.privacy.medical import MedicalGuardAdmin, touches_medical
from portal.privacy.models import AuditEntry
from tests.factories import PASSWORD, EmergencyContactFactory, StudentFactory
from tests.helpers import host_of, make_actor

pytestmark = pytest.mark.django_db
NOTES = "Severe bee-sting allergy"


@pytest.fixture
def household(family_a):
    connection.set_tenant(family_a.tenant)
    Student.objects.filter(pk=family_a.student.pk).update(medical_notes=NOTES)
    StudentFactory(family=family_a.family, first_name="Leo", medical_notes="")
    EmergencyContactFactory(family=family_a.family, name="Aunt Rosa", phone="555-0142")
    return family_a


def staff(tenant, *, medical: bool) -> User:
    """Staff who may view families, students and enrollments in the admin."""
    with tenant_context(tenant):
        user = User.objects.create_user(
            email=f"viewer-{int(medical)}@alpha.test", password=PASSWORD, is_staff=True
        )
        codenames = ["view_family", "view_student", "view_enrollment", "view_guardian"]
        if medical:
            codenames.append("view_medical")
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    connection.set_tenant(tenant)
    return User.objects.get(pk=user.pk)


def client_of(tenant, user) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


# Lookups an attacker would use to learn notes character by character, on every admin page
# whose model reaches a student or a family.
ORACLES = [
    ("portal_accounts/student", "medical_notes__icontains", "bee"),
    ("portal_accounts/student", "medical_notes__regex", "^S"),
    ("portal_accounts/student", "medical_notes__startswith", "Sev"),
    ("portal_accounts/student", "medical_notes", NOTES),
    ("portal_accounts/student", "medical_notes__isnull", "False"),
    ("portal_accounts/student", "family__emergency_contacts__phone__startswith", "555"),
    ("portal_accounts/family", "students__medical_notes__icontains", "bee"),
    ("portal_accounts/family", "emergency_contacts__name__startswith", "Aunt"),
    ("portal_enrollment/enrollment", "family__students__medical_notes__iregex", "b.e"),
    ("portal_enrollment/enrollment", "student__medical_notes__icontains", "bee"),
]


@pytest.mark.parametrize(("page", "lookup", "value"), ORACLES)
def test_admin_lookups_on_medical_fields_are_refused_without_the_permission(
    page, lookup, value, household
):
    client = client_of(household.tenant, staff(household.tenant, medical=False))
    assert client.get(f"/admin/{page}/").status_code == 200
    response = client.get(f"/admin/{page}/", {lookup: value})
    assert response.status_code == 400  # the admin's "Filtering by ... not allowed"
    assert NOTES not in response.content.decode()
    assert not AuditEntry.objects.filter(action__in=["read_medical", "search_medical"]).exists()


def test_with_the_permission_a_medical_lookup_filters_and_is_audited(household):
    nurse = staff(household.tenant, medical=True)
    client = client_of(household.tenant, nurse)
    response = client.get("/admin/portal_accounts/student/", {"medical_notes__icontains": "bee"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    entry = AuditEntry.objects.get(action="search_medical")
    assert entry.actor_email == nurse.email and entry.object_type == "portal_accounts.student"
    assert entry.fields == {"lookups": ["medical_notes__icontains"], "search": False}
    assert "bee" not in str(entry.fields)  # the searched text is not copied into the log


def test_search_filters_columns_and_ordering_drop_medical_fields_without_the_permission(
    household,
):
    class Careless(StudentAdmin):
        search_fields = ("first_name", "medical_notes", "family__emergency_contacts__name")
        list_filter = ("is_active", "medical_notes")
        list_display = ("first_name", "medical_notes")
        ordering = ("medical_notes", "first_name")

    careless = type("Careless", (MedicalGuardAdmin, Careless), {})(Student, admin.site)
    request = RequestFactory().get("/admin/")
    request.user = staff(household.tenant, medical=False)
    assert careless.get_search_fields(request) == ("first_name",)
    assert careless.get_list_filter(request) == ("is_active",)
    assert careless.get_list_display(request) == ("first_name",)
    assert careless.get_ordering(request) == ("first_name",)
    assert "medical_notes" not in careless.get_sortable_by(request)
    request.user = staff(household.tenant, medical=True)
    assert "medical_notes" in careless.get_search_fields(request)


def test_every_admin_of_a_business_is_guarded():
    unguarded = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if not isinstance(model_admin, MedicalGuardAdmin)
    ]
    assert unguarded == []


@pytest.mark.parametrize(
    ("model", "path", "touches"),
    [
        (Student, "medical_notes", True),
        (Student, "-medical_notes", True),
        (Student, "^medical_notes", True),
        (Student, "medical_notes__icontains", True),
        (Student, "first_name__icontains", False),
        (Student, "family__name", False),
        (Student, "family__emergency_contacts", True),
        (Family, "students__medical_notes__regex", True),
        (Family, "emergency_contacts__phone", True),
        (Family, "students__first_name", False),
        (Guardian, "family__students__medical_notes", True),
        (Enrollment, "student__medical_notes__startswith", True),
        (Enrollment, "student__last_name", False),
        (EmergencyContact, "name", True),
        (User, "guardian__family__students__medical_notes", True),
        (Student, "no_such_field__medical_notes", False),
    ],
)
def test_touches_medical(model, path, touches):
    assert touches_medical(model, path) is touches


def test_no_staff_api_answer_carries_medical_notes(household, tenant_a):
    """Every staff GET route, as the owner (who may read them): none returns notes or contacts
    (the console's roster is where permitted staff read them, audited)."""
    from tests.helpers import api_routes

    owner = make_actor(tenant_a, email="api-owner@alpha.test", role="owner")
    samples = {"locale": "en-US", "name": "revenue"}  # any other parameter: 1
    for path, callback in api_routes("saas_platform.urls_tenant", "/api/v1/staff").items():
        if "get" not in getattr(callback.cls, "http_method_names", []) or not hasattr(
            callback.cls, "get"
        ):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(samples.get(m.group(1), 1)), path)
        response = owner.client().get(url)
        body = response.content.decode(errors="replace") if not response.streaming else ""
        assert NOTES not in body and "555-0142" not in body, path


def test_staff_cannot_read_a_family_over_the_family_api(household, tenant_a):
    owner = make_actor(tenant_a, email="api-owner@alpha.test", role="owner")
    for path in ("/api/v1/family", "/api/v1/family/students", "/api/v1/family/export",
                 "/api/v1/family/emergency-contacts"):  # fmt: skip
        response = owner.client().get(path)
        assert response.status_code == 403, path
        assert NOTES not in response.content.decode()
