"""Shim: moved to ``kernel.api.strict_json``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.api import strict_json as _moved
from kernel.api.strict_json import *  # noqa: F403

sys.modules[__name__] = _moved
