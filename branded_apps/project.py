"""The branded build as a whole Expo project: the family app's source (mobile/) at the version
the build froze, the business's branding (read by the app's app.config.ts), eas.json, a build
README, store locales the stores accept, and privacy answers generated from what the app
collects. bundle.py puts these into the zip next to the icons and store text."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from kernel.errors import ApplicationError

# What of mobile/ a build needs (never node_modules, builds, tests or local files).
SOURCE_FILES = ("package.json", "package-lock.json", "app.config.ts", "babel.config.js",
                "tsconfig.json", "index.ts")  # fmt: skip
SOURCE_DIRS = ("src",)

# App Store and Google Play spell Spanish (and English) differently; Play has no es-MX.
APP_STORE_LOCALES = {"es": "es-MX", "es-419": "es-MX", "es-US": "es-MX", "en": "en-US"}
PLAY_LOCALES = {"es": "es-419", "es-MX": "es-419", "es-AR": "es-419", "es-CO": "es-419",
                "es-CL": "es-419", "es-PE": "es-419", "en": "en-US"}  # fmt: skip


def app_store_locale(locale: str) -> str:
    return APP_STORE_LOCALES.get(locale, locale)


def play_locale(locale: str) -> str:
    return PLAY_LOCALES.get(locale, locale)


def source_root() -> Path:
    return Path(settings.FAMILY_APP_SOURCE)


def source_files() -> dict[str, bytes]:
    root = source_root()
    files = {name: (root / name).read_bytes() for name in SOURCE_FILES}
    for folder in SOURCE_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def source_ref() -> dict:
    """The app version a build freezes: mobile/package.json's version and a hash of the
    source files."""
    files = source_files()
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    version = json.loads(files["package.json"])["version"]
    return {"version": version, "sha256": digest.hexdigest()}


def source_for(ref: dict) -> dict[str, bytes]:
    """The source files, refusing if they changed since the build froze them (a retry must
    render the same bytes; a new build picks up the new app)."""
    if source_ref()["sha256"] != ref["sha256"]:
        raise ApplicationError(
            "app_source_changed",
            "The app's source changed since this build was requested; request a new build.",
            status=409,
        )
    return source_files()


def branding(inputs: dict, colours: dict[str, str]) -> dict:
    """branding.json, which the app's app.config.ts reads to become this business's app."""
    app, tenant = inputs["app"], inputs["tenant"]
    return {
        "name": app["display_name"],
        "slug": tenant["slug"],
        "scheme": app["scheme"],
        "version": app["version"],
        "buildNumber": app["build_number"],
        "iosBundleIdentifier": app["ios_bundle_id"],
        "androidPackage": app["android_package"],
        "supportsTablet": bool(app.get("supports_tablet")),
        "colors": {"primary": colours["primary"], "background": colours["background"]},
        "tenant": {
            "slug": tenant["slug"],
            "name": tenant["name"],
            "apiBaseUrl": tenant["api_base_url"],
            "runtimeConfigUrl": tenant["api_base_url"] + "portal",
        },
        "platformUrl": tenant["portal_url"].rstrip("/"),
        "locales": sorted({listing["locale"] for listing in inputs["listings"]}),
    }


def eas_json() -> dict:
    """EAS Build and Submit profiles: store binaries signed with credentials EAS manages."""
    return {
        "cli": {"version": ">= 16.0.0", "appVersionSource": "local"},
        "build": {
            "production": {
                "node": "20.19.4",
                "env": {"EXPO_NO_TELEMETRY": "1"},
                "ios": {"resourceClass": "default"},
                "android": {"buildType": "app-bundle"},
            },
            "preview": {"distribution": "internal", "android": {"buildType": "apk"}},
        },
        "submit": {
            "production": {
                "ios": {"ascAppId": "SET_ME_AFTER_CREATING_THE_APP"},
                "android": {"track": "internal", "releaseStatus": "draft"},
            }
        },
    }


# What the app collects and why, the one source for both stores' forms.
COLLECTED = [
    {"what": "name", "apple": "NAME", "google": "personal_info.name",
     "purpose": "App functionality", "linked": True},
    {"what": "email address", "apple": "EMAIL_ADDRESS", "google": "personal_info.email",
     "purpose": "App functionality", "linked": True},
    {"what": "phone number", "apple": "PHONE_NUMBER", "google": "personal_info.phone",
     "purpose": "App functionality", "linked": True},
    {"what": "students' dates of birth and medical notes", "apple": "HEALTH",
     "google": "health_and_fitness.health_info", "purpose": "App functionality", "linked": True},
    {"what": "payment history (cards stay with Stripe)", "apple": "PURCHASE_HISTORY",
     "google": "financial_info.purchase_history", "purpose": "App functionality", "linked": True},
    {"what": "push notification token", "apple": "DEVICE_ID", "google": "device_or_other_ids",
     "purpose": "App functionality", "linked": True},
]  # fmt: skip


def privacy_answers(inputs: dict) -> dict:
    """App Store privacy labels and Google Play data-safety answers, from COLLECTED."""
    return {
        "app_store": {
            "tracking": False,
            "data_used_to_track_you": [],
            "data_linked_to_you": [
                {"type": c["apple"], "purposes": [c["purpose"]]} for c in COLLECTED
            ],
            "data_not_linked_to_you": [],
            "privacy_policy_url": inputs["app"]["privacy_url"],
        },
        "google_play": {
            "collects_or_shares_data": True,
            "encrypted_in_transit": True,
            "deletion_request_mechanism": True,  # GET/POST /api/v1/family/deletion-request
            "data_types": [
                {
                    "type": c["google"],
                    "collected": True,
                    "shared": False,
                    "optional": False,
                    "purposes": ["app_functionality", "account_management"],
                }
                for c in COLLECTED
            ],
            "privacy_policy_url": inputs["app"]["privacy_url"],
        },
        "collected": [c["what"] for c in COLLECTED],
    }


BUILD_README = """# {name}: building and publishing

This folder is a complete Expo project: the family app at version {version} (source
{source}) configured as {name} ({ios} on iOS, {android} on Android). Nothing in it needs
editing by hand.

    npm ci                              # the exact packages of package-lock.json
    npx expo config                     # the resolved app config (reads branding.json)
    npx eas build --platform all --profile production
    npx eas submit --platform all --profile production

- Accounts: an Apple Developer account and a Google Play developer account in the business's
  own name (Apple rejects apps published for someone else), and an Expo account for EAS.
- Signing: `eas credentials` lets EAS create and keep the iOS distribution certificate and
  provisioning profile and the Android upload key.
- Store text: `fastlane/metadata/` (App Store locales) and `fastlane/metadata/android/`
  (Google Play locales); screenshots in `fastlane/screenshots/` when the build rendered them.
- App Review: `fastlane/metadata/review_information/` names the demo account.
- Privacy: `store/privacy.json` holds the App Store privacy labels and the Play data-safety
  answers for what this app collects.

See docs/mobile.md in the platform's repository for the whole path.
"""


def review_account_ensure() -> dict:
    """The App Review demo account: a family of this business with a student, signed in with
    credentials the reviewers get in the submission (fastlane review_information). A new
    password each build request; the build's frozen inputs keep it, so a retry renders the
    same bundle."""
    import secrets
    from datetime import date

    from django.db import connection, transaction

    from kernel.users.models import User
    from portal.accounts.models import Family, Guardian, Student

    tenant = connection.tenant
    email = f"app-review@{tenant.schema_name}.{settings.PLATFORM_DOMAIN}"
    password = secrets.token_urlsafe(12)
    with transaction.atomic():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=password)
        else:
            user.set_password(password)
            user.is_active = True
            user.save(update_fields=["password", "is_active"])
        guardian = Guardian.objects.filter(user=user).first()
        if guardian is None:
            family = Family.objects.create(name="App Review")
            guardian = Guardian.objects.create(
                family=family, user=user, first_name="App", last_name="Review", email=email,
                is_primary=True,
            )  # fmt: skip
            Student.objects.create(
                family=family, first_name="Sam", last_name="Review",
                date_of_birth=date(timezone.localdate().year - 8, 1, 1),
            )  # fmt: skip
    return {
        "demo_user": email,
        "demo_password": password,
        "notes": f"A family account of {tenant.name} with one student: search classes, add one "
        "to the cart, check out, and report an absence from the schedule.",
    }
