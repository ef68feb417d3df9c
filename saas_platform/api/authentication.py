"""Shim: moved to ``kernel.api.authentication``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.api import authentication as _moved
from kernel.api.authentication import *  # noqa: F403

sys.modules[__name__] = _moved
