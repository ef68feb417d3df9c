"""Seed the demo: a platform admin and two businesses with different data. Safe to re-run."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django_tenants.utils import tenant_context

from demo.branding import app_demo, brand_demo
from demo.data import seed_business
from kernel.users.models import User
from kernel.users.services import user_get_or_create_staff_owner
from portal.billing.connect import connect_demo, connect_demo_mode
from portal.config.selectors import portal_settings_get
from tenants.models import Tenant
from tenants.services import tenant_provision

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105  (demo data, printed on screen)

BUSINESSES = [
    {
        "slug": "acme",
        "name": "Acme Gymnastics",
        "owner_email": "owner@acme.example",
        "timezone_name": "America/Chicago",
        "currency": "USD",
        "heading": "Flip, tumble and fly at Acme Gymnastics",
        "message": "Fall session registration is open. Preschool, recreational and team "
        "gymnastics for ages 18 months and up.",
        "families": ["parent@acme.example", "rivera.family@acme.example"],
    },
    {
        "slug": "zen",
        "name": "Zen Swim School",
        "owner_email": "owner@zen.example",
        "timezone_name": "America/Los_Angeles",
        "currency": "USD",
        "heading": "Learn to swim with Zen",
        "message": "Small-group and private lessons in our heated indoor pool. Winter term "
        "starts January 6.",
        "families": ["parent@zen.example", "okafor.family@zen.example"],
    },
]


class Command(BaseCommand):
    help = "Provision the demo businesses (acme, zen) and a platform admin; print the logins."

    def handle(self, *args, **options):
        connection.set_schema_to_public()
        admin = User.objects.filter(email="admin@platform.example").first()
        if admin is None:
            User.objects.create_superuser(email="admin@platform.example", password=DEMO_PASSWORD)

        for spec in BUSINESSES:
            result = tenant_provision(
                slug=spec["slug"],
                name=spec["name"],
                owner_email=spec["owner_email"],
                timezone_name=spec["timezone_name"],
                currency=spec["currency"],
                launched=True,
                exist_ok=True,
            )
            tenant = result.tenant
            if connect_demo_mode() and not tenant.stripe_charges_enabled:
                # localstripe (make demo) has no Connect: the seeded businesses take the
                # console's explicit demo connection (acct_demo_<slug>); a business onboarded
                # later connects from its console's payments page.
                connect_demo(tenant=tenant)
            with tenant_context(tenant):
                owner, _ = user_get_or_create_staff_owner(email=tenant.owner_email)
                if not owner.has_usable_password():
                    owner.set_password(DEMO_PASSWORD)
                    owner.save(update_fields=["password"])
                portal = portal_settings_get()
                portal.welcome_heading = spec["heading"]
                portal.welcome_message = spec["message"]
                portal.gift_certificates_enabled = True
                portal.punch_passes_enabled = True
                portal.save()
                brand_demo(spec["slug"])
                seeded = seed_business(
                    slug=spec["slug"], password=DEMO_PASSWORD, family_emails=spec["families"]
                )
                app_demo(spec["slug"])
            connection.set_schema_to_public()
            state = "created" if result.created else "already there"
            content = "demo content added" if seeded else "content kept"
            self.stdout.write(f"{tenant.name}: {tenant.url()} ({state}, {content})")

        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        self.stdout.write(f"  platform admin  admin@platform.example  {_root_url('/admin/')}")
        for spec in BUSINESSES:
            tenant = Tenant.objects.get(schema_name=spec["slug"])
            self.stdout.write(
                f"  {tenant.name} staff   {tenant.owner_email}  {tenant.url('/admin/')}"
            )
            self.stdout.write(f"  {tenant.name} family  {spec['families'][0]}")
        self.stdout.write("\nBuild a branded app bundle: python manage.py branded_app_build acme")


def _root_url(path: str) -> str:
    port = f":{settings.PLATFORM_URL_PORT}" if settings.PLATFORM_URL_PORT else ""
    return f"{settings.PLATFORM_URL_SCHEME}://{settings.PLATFORM_DOMAIN}{port}{path}"
