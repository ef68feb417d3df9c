import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas_platform.settings")
application = get_wsgi_application()

# Import both URL maps, and so every view module they name, now rather than on each worker's
# first request: gunicorn loads this module in its master (``preload_app``), so its workers fork
# with them loaded. Otherwise a fresh worker spends ~2.5 s (measured on the shared 2-core VM at
# load 8) on its first request, after every start and every ``max_requests`` recycle; Lighthouse
# gives up on a robots.txt that takes 2 s (docs/web.md, "Lighthouse").
for _urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
    get_resolver(_urlconf).url_patterns  # noqa: B018 - loading them is the point
