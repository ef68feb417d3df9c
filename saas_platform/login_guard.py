"""Shim: moved to ``kernel.login_guard``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import login_guard as _moved
from kernel.login_guard import *  # noqa: F403

sys.modules[__name__] = _moved
