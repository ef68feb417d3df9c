"""Shim: moved to ``saas_platform.portal_availability``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from saas_platform import portal_availability as _moved
from saas_platform.portal_availability import *  # noqa: F403

sys.modules[__name__] = _moved
