"""Shim: moved to ``kernel.observability``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import observability as _moved
from kernel.observability import *  # noqa: F403

sys.modules[__name__] = _moved
