"""Shim: moved to ``kernel.client_address``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from kernel import client_address as _moved
from kernel.client_address import *  # noqa: F403

sys.modules[__name__] = _moved
