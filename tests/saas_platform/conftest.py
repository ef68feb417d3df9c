"""Fixtures the saas_platform tests share."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from portal.catalog import waiting_room
from portal.catalog.models import RegistrationOpening
from tests.portal.enrollment_helpers import make_offering


@pytest.fixture
def opening(in_tenant_a):
    """A registration opening five minutes away, one free class of 4 seats; its line (Redis)
    and this process's copy of its settings are cleared afterwards."""
    opening = RegistrationOpening.objects.create(
        name="Fall registration", opens_at=timezone.now() + timedelta(minutes=5)
    )
    opening.offerings.set([make_offering(name="Tumble Tots", capacity=4, tuition=0)])
    yield opening
    connection.set_tenant(in_tenant_a)
    waiting_room.queue_clear(opening=opening)
    waiting_room.configs_clear()
    connection.set_schema_to_public()
