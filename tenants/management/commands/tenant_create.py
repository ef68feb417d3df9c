from django.core.management.base import BaseCommand, CommandError

from kernel.errors import ApplicationError
from tenants.services import tenant_provision


class Command(BaseCommand):
    help = "Provision a business: clone its schema, add its domain and owner account."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The business's name.")
        parser.add_argument("--slug", required=True, help="Subdomain and schema name.")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--contact-email", default=None)
        parser.add_argument("--timezone", default="America/New_York")
        parser.add_argument("--currency", default="USD")
        parser.add_argument("--locale", default="en")
        parser.add_argument("--plan", default=None, help="A plan code (e.g. starter).")
        parser.add_argument(
            "--launch",
            action="store_true",
            help="Launch at once (public and listed). Without it the business waits for its "
            "launch from the platform console, like one onboarded there.",
        )
        parser.add_argument(
            "--exist-ok", action="store_true", help="Succeed quietly if the tenant is active."
        )

    def handle(self, *args, **options):
        try:
            result = tenant_provision(
                slug=options["slug"],
                name=options["name"],
                owner_email=options["owner_email"],
                contact_email=options["contact_email"],
                timezone_name=options["timezone"],
                currency=options["currency"],
                locale=options["locale"],
                plan=options["plan"],
                launched=options["launch"],
                exist_ok=options["exist_ok"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        tenant = result.tenant
        if not result.created:
            self.stdout.write(f"{tenant.name} ({tenant.slug}) is already {tenant.status}.")
            return
        self.stdout.write(self.style.SUCCESS(f"Provisioned {tenant.name} at {tenant.url()}"))
        if result.set_password_url:
            self.stdout.write(f"Owner {result.owner_email} sets a password at:")
            self.stdout.write(f"  {result.set_password_url}")
