"""Shim: moved to ``kernel.admin_sites``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import admin_sites as _moved
from kernel.admin_sites import *  # noqa: F403

sys.modules[__name__] = _moved
