"""Shim: moved to ``kernel.tasks``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import tasks as _moved
from kernel.tasks import *  # noqa: F403

sys.modules[__name__] = _moved
