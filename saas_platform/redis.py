"""Shim: moved to ``kernel.redis``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import redis as _moved
from kernel.redis import *  # noqa: F403

sys.modules[__name__] = _moved
