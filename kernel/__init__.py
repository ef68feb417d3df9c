"""The shared kernel: what every layer may use and what knows no app above it (users and API
tokens, the error type and its code registry, the API's base classes, Redis, the process cache,
the login guard, client addresses, staff permission names, storage, Celery enqueueing). It
imports no app of the project (tests/test_layers.py)."""
