"""Shim: moved to ``kernel.storage``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import storage as _moved
from kernel.storage import *  # noqa: F403

sys.modules[__name__] = _moved
