"""Shim: moved to ``kernel.api.throttling``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.api import throttling as _moved
from kernel.api.throttling import *  # noqa: F403

sys.modules[__name__] = _moved
