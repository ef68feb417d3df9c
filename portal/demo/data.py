"""Shim: moved to ``demo.data``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from demo import data as _moved
from demo.data import *  # noqa: F403

sys.modules[__name__] = _moved
