"""Staff finding a family and reading its whole account (portal.families)."""

import pytest
from django.core import mail
from django.db import connection

from kernel.errors import ApplicationError
from portal.billing import staff
from portal.families.selectors import family_overview, family_search
from portal.families.services import guardian_invite_resend
from portal.outbox.models import OutboxMessage
from portal.privacy.models import AuditEntry
from tests.factories import GuardianFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def families(in_tenant_a):
    rivera = GuardianFactory(
        email="dana@rivera.test", first_name="Dana", last_name="Rivera", phone="(555) 201-7788"
    )
    StudentFactory(family=rivera.family, first_name="Mia", last_name="Rivera")
    chen = GuardianFactory(
        email="lee@chen.test", first_name="Lee", last_name="Chen", phone="+1 555 309 1122"
    )
    StudentFactory(family=chen.family, first_name="Oscar", last_name="Okafor")
    return rivera.family, chen.family


@pytest.mark.parametrize(
    "query, expected",
    [
        ("rivera", ["rivera"]),
        ("Dana Rivera", ["rivera"]),
        ("lee@chen", ["chen"]),
        ("555-201", ["rivera"]),
        ("5553091122", ["chen"]),
        ("oscar", ["chen"]),  # a student's name finds the family
        ("OKAFOR", ["chen"]),
        ("dana chen", []),  # every word must match
        ("zz", []),
    ],
)
def test_search_by_name_email_phone_or_student(families, query, expected):
    by_key = {families[0].pk: "rivera", families[1].pk: "chen"}
    found = [by_key[f.pk] for f in family_search(query=query)]
    assert found == expected


@pytest.mark.parametrize("query", ["", "a", " x ", "x" * 101, "ab\x00", None])
def test_search_refuses_too_short_or_bad_queries(families, query):
    with pytest.raises(ApplicationError) as caught:
        family_search(query=query)
    assert caught.value.code == "invalid_search" and caught.value.fields == {
        "q": ["2 to 100 characters."]
    }


def test_search_shows_each_familys_balance(families):
    staff.ledger_charge_post(family_id=families[0].pk, amount=2500, description="Fee")
    (found,) = family_search(query="rivera")
    assert found.balance == 2500
    (other,) = family_search(query="chen")
    assert other.balance == 0


def test_search_sees_only_this_business(families, tenant_b):
    connection.set_tenant(tenant_b)
    assert list(family_search(query="rivera")) == []


def test_overview_has_the_whole_account(families):
    rivera = families[0]
    staff.ledger_charge_post(family_id=rivera.pk, amount=2500, description="Fee")
    staff.offline_payment_record(family_id=rivera.pk, amount=1000, method="cash")
    view = family_overview(family_id=rivera.pk)
    assert view["family"] == rivera
    assert [g["guardian"].email for g in view["guardians"]] == ["dana@rivera.test"]
    assert [s.first_name for s in view["students"]] == ["Mia"]
    assert view["ledger"]["balance"] == 1500
    assert [p.kind for p in view["postings"]] == ["payment", "charge"]
    assert view["payment_methods"] == [] and view["payments"] == []
    with pytest.raises(ApplicationError) as caught:
        family_overview(family_id=999999)
    assert (caught.value.code, caught.value.status) == ("family_not_found", 404)


def test_resending_an_invite_emails_a_fresh_link_after_commit(
    families, django_capture_on_commit_callbacks
):
    guardian = families[0].guardians.get()
    with django_capture_on_commit_callbacks(execute=True):
        guardian_invite_resend(family_id=families[0].pk, guardian_id=guardian.pk)
    (message,) = mail.outbox
    assert message.to == ["dana@rivera.test"]
    assert "/account/set-password/" in message.body
    assert OutboxMessage.objects.get().task == "accounts.send_guardian_invite"
    assert AuditEntry.objects.filter(action="invite_resent", object_id=str(guardian.pk)).exists()


def test_an_invite_needs_a_guardian_of_that_family_with_a_login(families):
    other = families[1].guardians.get()
    with pytest.raises(ApplicationError) as caught:
        guardian_invite_resend(family_id=families[0].pk, guardian_id=other.pk)
    assert (caught.value.code, caught.value.status) == ("guardian_not_found", 404)
    other.user.is_active = False
    other.user.save()
    with pytest.raises(ApplicationError) as caught:
        guardian_invite_resend(family_id=families[1].pk, guardian_id=other.pk)
    assert (caught.value.code, caught.value.status) == ("guardian_has_no_login", 409)
    assert OutboxMessage.objects.count() == 0
