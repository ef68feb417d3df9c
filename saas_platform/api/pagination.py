"""Shim: moved to ``kernel.api.pagination``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.api import pagination as _moved
from kernel.api.pagination import *  # noqa: F403

sys.modules[__name__] = _moved
