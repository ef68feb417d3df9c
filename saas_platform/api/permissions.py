"""Shim: moved to ``kernel.api.permissions``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.api import permissions as _moved
from kernel.api.permissions import *  # noqa: F403

sys.modules[__name__] = _moved
