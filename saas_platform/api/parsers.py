"""Shim: moved to ``kernel.api.parsers``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.api import parsers as _moved
from kernel.api.parsers import *  # noqa: F403

sys.modules[__name__] = _moved
