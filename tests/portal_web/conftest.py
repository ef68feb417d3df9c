"""Web portal fixtures: a family signed in through the real sign-in page."""

from __future__ import annotations

import pytest

from tests.helpers import signed_in


@pytest.fixture
def family_web(family_a):
    """Tenant A's family, signed in on A's host."""
    family_a.web = signed_in(family_a.tenant, family_a.guardian.email)
    return family_a
