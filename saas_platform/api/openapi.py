"""Shim: moved to ``kernel.api.openapi``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel.api import openapi as _moved
from kernel.api.openapi import *  # noqa: F403

sys.modules[__name__] = _moved
