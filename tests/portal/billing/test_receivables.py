"""Aged receivables (portal.billing.receivables): oldest charges settled first, aged in the
business's time zone from their due date."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from portal.billing.models import LedgerEntry
from portal.billing.receivables import bucket_of, receivables_aged
from tests.factories import GuardianFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 30)


def post(family, amount, day: date, hour=12, key=None):
    zone = ZoneInfo(connection.tenant.timezone)
    LedgerEntry.objects.create(
        family=family,
        kind="charge" if amount > 0 else "payment",
        description="x",
        amount=amount,
        currency="USD",
        source_key=key or f"t:{family.pk}:{day}:{amount}:{hour}",
        created_at=datetime(day.year, day.month, day.day, hour, tzinfo=zone),
    )


@pytest.mark.parametrize(
    "days, bucket",
    [(-3, "current"), (0, "current"), (1, "days_1_30"), (30, "days_1_30"), (31, "days_31_60"),
     (60, "days_31_60"), (61, "days_61_90"), (90, "days_61_90"), (91, "days_over_90")],
)  # fmt: skip
def test_buckets(days, bucket):
    assert bucket_of(days) == bucket


def test_payments_settle_the_oldest_charges_first(in_tenant_a):
    family = GuardianFactory(email="a@alpha.test").family
    post(family, 10000, TODAY - timedelta(days=120))  # 120 days old, fully paid below
    post(family, 5000, TODAY - timedelta(days=70))  # 70: partly paid
    post(family, 3000, TODAY - timedelta(days=40))
    post(family, 2000, TODAY - timedelta(days=10))
    post(family, 1000, TODAY)
    post(family, -12000, TODAY - timedelta(days=5))
    paid_up = GuardianFactory(email="b@alpha.test").family
    post(paid_up, 1000, TODAY - timedelta(days=100))
    post(paid_up, -1500, TODAY)  # credit: not listed
    report = receivables_aged(today=TODAY, grace_days=0)
    (row,) = report["families"]
    assert row["family_id"] == family.pk and row["total"] == 9000
    assert (
        row["current"],
        row["days_1_30"],
        row["days_31_60"],
        row["days_61_90"],
        row["days_over_90"],
    ) == (1000, 2000, 3000, 3000, 0)
    assert row["oldest_charge_on"] == TODAY - timedelta(days=70) and row["days_overdue"] == 70
    assert report["totals"]["total"] == 9000 and report["totals"]["days_61_90"] == 3000


def test_the_grace_period_and_the_business_day(in_tenant_a):
    family = GuardianFactory(email="a@alpha.test").family
    # 23:30 in the business's zone on the 15th is already the 16th in UTC: it is the 15th here.
    post(family, 1000, TODAY - timedelta(days=15), hour=23)
    row = receivables_aged(today=TODAY, grace_days=14)["families"][0]
    assert row["days_1_30"] == 1000 and row["days_overdue"] == 1
    row = receivables_aged(today=TODAY, grace_days=15)["families"][0]
    assert row["current"] == 1000 and row["days_overdue"] == 0


def test_another_business_sees_none_of_it(in_tenant_a, tenant_b):
    post(GuardianFactory(email="a@alpha.test").family, 1000, TODAY)
    connection.set_tenant(tenant_b)
    assert receivables_aged(today=TODAY)["families"] == []
