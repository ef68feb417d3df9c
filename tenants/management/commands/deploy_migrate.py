import time

from django.core.management.base import BaseCommand, CommandError

from kernel.errors import ApplicationError
from tenants.deploy import deploy_migrate


class Command(BaseCommand):
    help = (
        "Deploy-time migrations: the public schema, the provisioning template and spare pool, "
        "then every tenant schema not yet at the code's migrations, in parallel. Resumes the "
        "last unfinished run for the same migrations."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Parallel worker processes, each with its own connection (default: CPUs, max 4).",
        )
        parser.add_argument("--run-id", type=int, default=None, help="Resume this deploy run.")
        parser.add_argument(
            "--new-run", action="store_true", help="Start a new run instead of resuming."
        )
        parser.add_argument(
            "--skip-public", action="store_true", help="The public schema is already migrated."
        )
        parser.add_argument(
            "--refresh-template",
            action="store_true",
            help="Rebuild the template even when it matches the code's migrations.",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            report = deploy_migrate(
                workers=options["workers"],
                run_id=options["run_id"],
                new_run=options["new_run"],
                skip_public=options["skip_public"],
                force_template=options["refresh_template"],
                progress_stream=self.stderr._out,
                log=lambda message: self.stdout.write(message),
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        elapsed = time.perf_counter() - started
        for schema, error in sorted(report.failed.items()):
            self.stderr.write(f"  {schema}: {error.splitlines()[0] if error else ''}")
        summary = (
            f"deploy run {report.run.pk}: {report.total} tenant schemas, {report.migrated} "
            f"migrated, {report.current} already current, {report.already_done} done earlier, "
            f"{len(report.failed)} failed in {elapsed:.2f}s"
        )
        if report.failed:
            raise CommandError(
                summary + f". Fix the failures and run deploy_migrate again to resume run "
                f"{report.run.pk}."
            )
        self.stdout.write(self.style.SUCCESS(summary))
