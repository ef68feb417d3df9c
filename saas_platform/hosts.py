"""Shim: moved to ``kernel.hosts``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import hosts as _moved
from kernel.hosts import *  # noqa: F403

sys.modules[__name__] = _moved
