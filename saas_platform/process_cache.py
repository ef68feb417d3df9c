"""Shim: moved to ``kernel.process_cache``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import process_cache as _moved
from kernel.process_cache import *  # noqa: F403

sys.modules[__name__] = _moved
