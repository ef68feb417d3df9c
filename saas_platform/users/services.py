"""Shim: moved to ``kernel.users.services``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.users import services as _moved
from kernel.users.services import *  # noqa: F403

sys.modules[__name__] = _moved
