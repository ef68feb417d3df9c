"""Shim: moved to ``kernel.staff_permissions``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import staff_permissions as _moved
from kernel.staff_permissions import *  # noqa: F403

sys.modules[__name__] = _moved
