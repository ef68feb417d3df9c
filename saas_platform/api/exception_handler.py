"""Shim: moved to ``kernel.api.exception_handler``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.api import exception_handler as _moved
from kernel.api.exception_handler import *  # noqa: F403

sys.modules[__name__] = _moved
