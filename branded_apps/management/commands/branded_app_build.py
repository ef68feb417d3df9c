"""Build a business's branded app from the command line, with a progress bar.

python manage.py branded_app_build acme            # pre-flight, build here, show progress
python manage.py branded_app_build acme --queue    # hand it to a worker and follow it
python manage.py branded_app_build acme --retry 3  # retry failed build 3
python manage.py branded_app_build acme --preflight  # only list the problems
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context
from tqdm import tqdm

from branded_apps import preflight, services
from branded_apps.models import AppBuild
from kernel.errors import ApplicationError
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Build (or retry, or pre-flight) a business's branded app bundle."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--queue", action="store_true", help="Let a Celery worker build it; follow progress."
        )
        parser.add_argument("--retry", type=int, metavar="NUMBER", help="Retry a failed build.")
        parser.add_argument("--preflight", action="store_true", help="Only run the checks.")
        parser.add_argument("--timeout", type=int, default=900, help="Seconds to follow a build.")

    def handle(self, *args, slug: str, queue: bool, retry: int | None, **options):
        tenant = Tenant.objects.filter(schema_name=slug).first()
        if tenant is None:
            raise CommandError(f"No business with the slug {slug!r}.")
        with tenant_context(tenant):
            if options["preflight"]:
                return self._preflight()
            try:
                if retry is not None:
                    build = services.build_retry(number=retry)
                else:
                    build = services.build_request(requested_by="cli")
            except ApplicationError as exc:
                for field, messages in exc.fields.items():
                    for message in messages:
                        self.stderr.write(f"  {field}: {message}")
                raise CommandError(f"{exc.code}: {exc.message}") from None
            self.stdout.write(f"Build {build.number} of {tenant.name} queued.")
            bar = tqdm(total=100, unit="%", desc=f"build {build.number}", file=self.stdout)
            if queue:
                build = self._follow(build, bar, options["timeout"])
            else:
                # enqueue_on_commit already sent it to a worker if one listens; whoever claims
                # it first builds it, the other finds it taken.
                build = services.build_run(
                    build.pk, progress=lambda pct, step: self._advance(bar, pct, step)
                )
                build = self._follow(build, bar, options["timeout"])
            bar.close()
            return self._result(build)

    def _advance(self, bar, percent: int, step: str) -> None:
        bar.set_postfix_str(step)
        bar.update(max(0, percent - bar.n))

    def _follow(self, build: AppBuild, bar, timeout: int) -> AppBuild:
        deadline = time.monotonic() + timeout
        while build.is_active and time.monotonic() < deadline:
            time.sleep(0.5)
            build.refresh_from_db()
            self._advance(bar, build.progress, build.step)
        self._advance(bar, build.progress, build.step)
        return build

    def _result(self, build: AppBuild) -> None:
        if build.status == AppBuild.Status.READY:
            link = services.build_download_url(build)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Build {build.number} ready: {build.bundle_bytes} bytes, "
                    f"sha256 {build.bundle_sha256}"
                )
            )
            self.stdout.write(f"Download (until {link['expires_at']:%Y-%m-%d %H:%M} UTC):")
            self.stdout.write(link["url"])
            return
        if build.status == AppBuild.Status.FAILED:
            raise CommandError(
                f"Build {build.number} failed ({build.failure_code}): {build.failure_reason}. "
                f"Retry with --retry {build.number}."
            )
        raise CommandError(f"Build {build.number} is still {build.status}; follow it later.")

    def _preflight(self) -> None:
        report = preflight.preflight_run()
        for problem in report["blocking"]:
            line = f"BLOCKING {problem['field']}: {problem['message']}"
            self.stdout.write(self.style.ERROR(line))
        for problem in report["warnings"]:
            line = f"warning  {problem['field']}: {problem['message']}"
            self.stdout.write(self.style.WARNING(line))
        if not report["ready"]:
            raise CommandError(f"{len(report['blocking'])} blocking problem(s).")
        self.stdout.write(self.style.SUCCESS("Ready to build."))
