"""Shim: moved to ``saas_platform.audit_context``.

Old imports keep working until the import rewrite; then it is deleted."""

import sys

from saas_platform import audit_context as _moved
from saas_platform.audit_context import *  # noqa: F403

sys.modules[__name__] = _moved
