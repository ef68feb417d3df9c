"""Shim: moved to ``kernel.errors``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import errors as _moved
from kernel.errors import *  # noqa: F403

sys.modules[__name__] = _moved
