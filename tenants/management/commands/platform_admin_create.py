from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from kernel.users.models import User
from kernel.users.services import api_token_issue


class Command(BaseCommand):
    help = "Create (or update) a platform admin in the public schema and print an API token."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", default=None, help="Omit to keep or leave unusable.")
        parser.add_argument("--token", action="store_true", help="Issue and print an API token.")

    def handle(self, *args, **options):
        connection.set_schema_to_public()
        email = options["email"].strip().lower()
        if "@" not in email:
            raise CommandError(f"“{email}” is not an email address.")
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_superuser(email=email, password=options["password"])
            self.stdout.write(self.style.SUCCESS(f"Created platform admin {email}."))
        elif options["password"]:
            user.set_password(options["password"])
            user.is_staff = user.is_superuser = True
            user.save()
            self.stdout.write(f"Updated platform admin {email}.")
        if options["token"]:
            _, raw = api_token_issue(user=user, name="cli")
            self.stdout.write(f"API token: {raw}")
