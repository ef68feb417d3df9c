"""Shim: moved to ``demo.branding``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from demo import branding as _moved
from demo.branding import *  # noqa: F403

sys.modules[__name__] = _moved
