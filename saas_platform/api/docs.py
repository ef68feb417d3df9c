"""Shim: moved to ``kernel.api.docs``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.api import docs as _moved
from kernel.api.docs import *  # noqa: F403

sys.modules[__name__] = _moved
