"""Shim: moved to ``kernel.error_codes``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import error_codes as _moved
from kernel.error_codes import *  # noqa: F403

sys.modules[__name__] = _moved
