"""Moved to ``kernel.users``. The modules left here are shims for imports not yet rewritten;
they go once every import names ``kernel.users``."""
