"""Shim: moved to ``kernel.users.admin``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.users import admin as _moved
from kernel.users.admin import *  # noqa: F403

sys.modules[__name__] = _moved
