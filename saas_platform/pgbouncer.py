"""Shim: moved to ``kernel.pgbouncer``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import pgbouncer as _moved
from kernel.pgbouncer import *  # noqa: F403

sys.modules[__name__] = _moved
