"""Shim: moved to ``kernel.converters``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import converters as _moved
from kernel.converters import *  # noqa: F403

sys.modules[__name__] = _moved
