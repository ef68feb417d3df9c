"""A WSGI app that does nothing: an 11-byte JSON answer. ``tests/bench/gunicorn_overhead.py``
serves it with the production gunicorn config to measure what a request costs gunicorn itself.
Django is set up (the fair worker and the config's hooks use it), but never called."""

import django

django.setup()

BODY = b'{"ok":true}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
