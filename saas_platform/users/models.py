"""Shim: moved to ``kernel.users.models``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.users import models as _moved
from kernel.users.models import *  # noqa: F403

sys.modules[__name__] = _moved
