"""Shim: moved to ``kernel.csp``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import csp as _moved
from kernel.csp import *  # noqa: F403

sys.modules[__name__] = _moved
