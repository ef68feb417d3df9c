"""Render a business's store screenshots from its live catalog and brand (needs Chromium and
the family app's web build; docs/mobile.md).

python manage.py branded_app_screenshots acme [--platform-url http://localhost:8000]
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from branded_apps.screenshots import DEVICES, screenshots_render
from branded_apps.services import app_screenshots_record
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Render a business's App Store and Google Play screenshots from its catalog."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--platform-url",
            default="",
            help="The platform's address as the app reaches it (default: from PLATFORM_DOMAIN).",
        )

    def handle(self, *args, slug: str, platform_url: str, **options):
        tenant = Tenant.objects.filter(schema_name=slug).first()
        if tenant is None:
            raise CommandError(f"No business with the slug {slug!r}.")
        port = f":{settings.PLATFORM_URL_PORT}" if settings.PLATFORM_URL_PORT else ""
        url = platform_url or f"{settings.PLATFORM_URL_SCHEME}://{settings.PLATFORM_DOMAIN}{port}"
        with tenant_context(tenant):
            from branded_apps.services import app_get

            shots = screenshots_render(platform_url=url, supports_tablet=app_get().supports_tablet)
            app_screenshots_record(screenshots=shots)
        for device, refs in shots.items():
            width, height = DEVICES[device]["size"]
            self.stdout.write(f"{device} ({width}x{height}): {len(refs)} screenshots")
