import os
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from kernel.after_response import AfterResponse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas_platform.settings")
# Work a request defers until its answer is sent (kernel.after_response): a search that finds
# the seat availability copy stale answers from it and reloads it after.
application = AfterResponse(get_wsgi_application())

# What a worker would otherwise do on its first requests is done here once: gunicorn loads this
# module in its master (``preload_app``), so its workers fork with it done, after every start
# and every ``max_requests`` recycle.


def _compile_routes(resolver) -> None:
    """Each route's regular expression, which Django compiles the first time it is tried."""
    for entry in resolver.url_patterns:
        entry.pattern.regex  # noqa: B018 - kept on the pattern once compiled
        if hasattr(entry, "url_patterns"):
            _compile_routes(entry)


# Both URL maps, and so every view module they name: otherwise a fresh worker spent ~2.5 s
# (measured on the shared 2-core VM at load 8) on its first request; Lighthouse gives up on a
# robots.txt that takes 2 s (docs/web.md, "Lighthouse").
for _urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
    _compile_routes(get_resolver(_urlconf))

# redis-py, which Django's cache backend imports in its first client (as do the waiting room
# and the routing table's generation check): ~90-140 ms of CPU on a worker's first request,
# with the import lock and the GIL held, so every thread of the worker waited. The quiet lane's
# worker, idle until a rush hands it a quiet business's connection, made that business's first
# request of the rush its slowest, ~100 ms (docs/benchmarks.md, issue 21, "Twenty-fifth
# pass"). Its version, read from the package's metadata on a client's first connection.
import_module("django.core.cache.backends.redis")
import_module("redis.utils").get_lib_version()
# The models' reverse relations, which Django works out on the first query that needs them.
apps.get_models()[0]._meta.related_objects  # noqa: B018 - works out every model's relations
