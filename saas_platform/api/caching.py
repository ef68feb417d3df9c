"""Shim: moved to ``kernel.api.caching``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.api import caching as _moved
from kernel.api.caching import *  # noqa: F403

sys.modules[__name__] = _moved
