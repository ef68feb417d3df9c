"""Writes for branded apps: the record, its store listings, and builds from request to a
bundle in object storage."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from kernel.errors import ApplicationError
from kernel.process_cache import tenant_config
from kernel.tasks import enqueue_on_commit

from . import project, rules
from .bundle import bundle_render
from .models import AppBuild, AppListing, BrandedApp
from .rules import Problem

logger = logging.getLogger(__name__)

APP_FIELDS = (
    "display_name",
    "ios_bundle_id",
    "android_package",
    "scheme",
    "version",
    "primary_locale",
    "support_url",
    "marketing_url",
    "privacy_url",
)
LISTING_FIELDS = rules.LISTING_FIELDS
# Changing any of these needs a new binary in the stores; everything else the apps fetch at run
# time from GET /api/v1/portal (theme colours, layout, feature switches, announcements).
# Two theme colours are baked too: the primary colour is the Android adaptive launcher icon's
# background, the background colour the splash screen's (theming.models.BINARY_FIELDS).
BINARY_FIELDS = ("display_name", "ios_bundle_id", "android_package", "scheme", "app_icon",
                 "splash_artwork", "launcher_background", "splash_background")  # fmt: skip
IDENTIFIER_FIELDS = ("ios_bundle_id", "android_package")
# A build that has not reported progress for this long is taken to be lost with its worker.
STALLED_AFTER = timedelta(minutes=15)
DOWNLOAD_SALT = "branded-apps.download"


def raise_problems(problems: list[Problem], status: int = 400) -> None:
    if not problems:
        return
    codes = {p.code for p in problems}
    fields = rules.fields_of(problems)
    message = "; ".join(f"{p.field}: {p.message}" for p in problems)
    raise ApplicationError(
        problems[0].code if len(codes) == 1 else "invalid_fields",
        message,
        status=status,
        fields=fields,
    )


def _label(slug: str) -> str:
    label = re.sub(r"[^a-z0-9]", "", slug.lower())
    return label if label[:1].isalpha() else f"app{label}"


def suggested_app_id(slug: str) -> str:
    return f"app.{_label(slug)}.portal"


def app_get() -> BrandedApp:
    """The record, created on first use with names and identifiers suggested from the
    tenant (staff can change them until the first build)."""
    app = BrandedApp.objects.filter(id=BrandedApp.SINGLETON_ID).first()
    if app is not None:
        return app
    tenant = connection.tenant
    with transaction.atomic():
        app, created = BrandedApp.objects.get_or_create(
            id=BrandedApp.SINGLETON_ID,
            defaults={
                "display_name": tenant.name[: rules.NAME_MAX],
                "ios_bundle_id": suggested_app_id(tenant.schema_name),
                "android_package": suggested_app_id(tenant.schema_name),
                "scheme": _label(tenant.schema_name)[:40],
            },
        )
        if created:
            AppListing.objects.get_or_create(app=app, locale=app.primary_locale)
    return app


def _check_app_field(field: str, value) -> list[Problem]:
    if not isinstance(value, str):
        return [Problem("invalid_input", field, "Must be text.")]
    if field == "display_name":
        if not value.strip():
            return [Problem("name_missing", field, "The app needs a name.")]
        return rules.check_text(value, field, rules.NAME_MAX)
    if field in IDENTIFIER_FIELDS:
        return rules.check_app_id(value, field)
    if field == "scheme":
        return rules.check_scheme(value)
    if field == "version":
        return rules.check_version(value)
    if field == "primary_locale":
        return rules.check_locale(value, field)
    return rules.check_https_url(value, field)  # the three URLs


@transaction.atomic
def app_update(**changes) -> BrandedApp:
    """Edit the record; every bad value is named with its reason, and nothing is saved."""
    app_get()
    app = BrandedApp.objects.select_for_update().get(id=BrandedApp.SINGLETON_ID)
    problems: list[Problem] = []
    for field, value in changes.items():
        if field not in APP_FIELDS:
            problems.append(Problem("unknown_field", field, f"“{field}” is not an app setting."))
            continue
        problems += _check_app_field(field, value)
        if field in IDENTIFIER_FIELDS and app.identifiers_locked and value != getattr(app, field):
            problems.append(
                Problem(
                    "identifiers_locked",
                    field,
                    "The stores never allow the identifier to change after the first build.",
                )
            )
    raise_problems(problems)
    for field, value in changes.items():
        setattr(app, field, value.strip() if field == "display_name" else value)
    app.save()
    if "primary_locale" in changes:
        AppListing.objects.get_or_create(app=app, locale=app.primary_locale)
    return app


@transaction.atomic
def listing_upsert(*, locale: str, **fields) -> AppListing:
    app = app_get()
    problems = rules.check_locale(locale)
    unknown = [name for name in fields if name not in LISTING_FIELDS]
    problems += [Problem("unknown_field", n, f"“{n}” is not a listing field.") for n in unknown]
    if any(not isinstance(value, str) for value in fields.values()):
        problems += [
            Problem("invalid_input", name, "Must be text.")
            for name, value in fields.items()
            if not isinstance(value, str)
        ]
    raise_problems(problems)
    listing = AppListing.objects.select_for_update().filter(app=app, locale=locale).first()
    current = {name: getattr(listing, name) if listing else "" for name in LISTING_FIELDS}
    merged = {**current, **fields}
    raise_problems(rules.check_listing(merged))
    if listing is None:
        listing = AppListing(app=app, locale=locale)
    for name, value in fields.items():
        setattr(listing, name, value)
    listing.save()
    return listing


@transaction.atomic
def listing_delete(*, locale: str) -> None:
    app = app_get()
    if locale == app.primary_locale:
        raise ApplicationError(
            "primary_locale_required",
            "The primary locale's listing cannot be removed; choose another primary first.",
            status=409,
        )
    deleted, _ = AppListing.objects.filter(app=app, locale=locale).delete()
    if not deleted:
        raise ApplicationError("listing_not_found", "No listing in that locale.", status=404)


# Builds ------------------------------------------------------------------------------------


def storage_read(path: str) -> bytes | None:
    """A stored file's bytes, or None when there is no such file."""
    if not path:
        return None
    try:
        with default_storage.open(path, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError):
        return None


def _image_ref(path: str) -> dict | None:
    if not path:
        return None
    data = storage_read(path)
    if data is None:
        return {"path": path, "sha256": "", "missing": True}
    return {"path": path, "sha256": hashlib.sha256(data).hexdigest()}


def build_inputs(*, build_number: int | None = None) -> dict:
    """Everything a bundle is rendered from, as JSON. Frozen on the build when it is requested,
    so retrying the build renders the very same bytes."""
    from theming.services import theme_current

    tenant = connection.tenant
    app = app_get()
    theme = theme_current()
    snapshot = theme.snapshot if theme else {}
    icon = _image_ref(snapshot.get("app_icon", ""))
    logo = _image_ref(snapshot.get("logo", ""))
    listings = [
        {"locale": listing.locale, **{name: getattr(listing, name) for name in LISTING_FIELDS}}
        for listing in AppListing.objects.filter(app=app).order_by("locale")
    ]
    return {
        "tenant": {
            "slug": tenant.schema_name,
            "name": tenant.name,
            "portal_url": tenant.url("/"),
            "api_base_url": tenant.url("/api/v1/"),
        },
        "app": {
            **{name: getattr(app, name) for name in APP_FIELDS},
            "build_number": build_number,
            "supports_tablet": app.supports_tablet,
        },
        "listings": listings,
        "app_source": project.source_ref(),
        "theme": {"version": theme.number, "tokens": theme.tokens} if theme else None,
        "images": {
            **{
                key: ref
                for key, ref in (("app_icon", icon), ("splash_artwork", logo or icon))
                if ref is not None
            },
            **{
                f"screenshot/{device}/{index + 1}": ref
                for device, refs in sorted((app.screenshots or {}).items())
                for index, ref in enumerate(refs)
                if device != "ipad13" or app.supports_tablet
            },
        },
    }


def binary_fingerprint(inputs: dict) -> dict:
    from .bundle import baked_colours

    app, refs = inputs["app"], inputs["images"]
    return {
        **baked_colours(inputs),
        "display_name": app["display_name"],
        "ios_bundle_id": app["ios_bundle_id"],
        "android_package": app["android_package"],
        "scheme": app["scheme"],
        "app_icon": (refs.get("app_icon") or {}).get("sha256", ""),
        "splash_artwork": (refs.get("splash_artwork") or {}).get("sha256", ""),
    }


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def build_needed() -> dict:
    """Does the app in the stores still match? Only binary fields ask for a new build; theme
    colours, layout and portal settings reach the installed apps at run time."""
    current = binary_fingerprint(build_inputs())
    last = AppBuild.objects.filter(status=AppBuild.Status.READY).order_by("-number").first()
    if last is None:
        return {"needed": True, "reasons": ["no_build_yet"], "last_ready_build": None}
    previous = binary_fingerprint(last.inputs)
    reasons = [name for name in BINARY_FIELDS if previous.get(name) != current.get(name)]
    return {"needed": bool(reasons), "reasons": reasons, "last_ready_build": last.number}


def _tenant_must_be_active() -> None:
    tenant = connection.tenant
    if tenant.status != tenant.Status.ACTIVE:
        raise ApplicationError(
            "tenant_not_active",
            "This business is suspended or not active; app builds are paused.",
            status=409,
        )


def build_request(*, requested_by: str = "") -> AppBuild:
    """Queue a build after the pre-flight check passes. One build of an app runs at a time."""
    from .preflight import preflight_run

    _tenant_must_be_active()
    app_get()
    try:
        with transaction.atomic():
            app = BrandedApp.objects.select_for_update().get(id=BrandedApp.SINGLETON_ID)
            active = AppBuild.objects.filter(app=app, status__in=AppBuild.ACTIVE).first()
            if active is not None:
                raise _in_progress(active)
            report = preflight_run()
            if report["blocking"]:
                raise ApplicationError(
                    "preflight_failed",
                    "Fix these before building: "
                    + "; ".join(p["message"] for p in report["blocking"]),
                    status=400,
                    fields=rules.fields_of(report["blocking"]),
                )
            number = (AppBuild.objects.filter(app=app).aggregate(n=Max("number"))["n"] or 0) + 1
            inputs = build_inputs(build_number=number)
            inputs["review"] = project.review_account_ensure()
            build = AppBuild.objects.create(
                app=app,
                number=number,
                inputs=inputs,
                binary_digest=_digest(binary_fingerprint(inputs)),
                theme_version=inputs["theme"]["version"],
                requested_by=requested_by,
                step="waiting for a build worker",
            )
            if not app.identifiers_locked:
                app.identifiers_locked = True
                app.save(update_fields=["identifiers_locked", "updated_at"])
            _enqueue(build)
    except IntegrityError:  # a concurrent request won the partial unique index
        active = AppBuild.objects.filter(status__in=AppBuild.ACTIVE).first()
        raise _in_progress(active) from None
    return build


def _in_progress(active: AppBuild | None) -> ApplicationError:
    number = active.number if active else "?"
    return ApplicationError(
        "build_in_progress",
        f"Build {number} of this app is still running; wait for it to finish.",
        status=409,
    )


def _enqueue(build: AppBuild) -> None:
    from .tasks import build_run_task

    enqueue_on_commit(build_run_task, build.pk)


def build_retry(*, number: int) -> AppBuild:
    """Queue a failed build again, from the same frozen inputs (so the same bytes)."""
    _tenant_must_be_active()
    try:
        with transaction.atomic():
            build = AppBuild.objects.select_for_update().filter(number=number).first()
            if build is None:
                raise ApplicationError("build_not_found", "No such build.", status=404)
            stalled = build.is_active and build_is_stalled(build)
            if build.status != AppBuild.Status.FAILED and not stalled:
                raise ApplicationError(
                    "build_not_retryable",
                    f"Build {number} is {build.status}; only a failed or stalled build is retried.",
                    status=409,
                )
            build.status = AppBuild.Status.QUEUED
            build.progress = 0
            build.step = "waiting for a build worker"
            build.failure_code = ""
            build.failure_reason = ""
            build.finished_at = None
            build.save()
            _enqueue(build)
    except IntegrityError:
        active = AppBuild.objects.filter(status__in=AppBuild.ACTIVE).first()
        raise _in_progress(active) from None
    return build


def build_is_stalled(build: AppBuild) -> bool:
    return build.heartbeat_at is not None and timezone.now() - build.heartbeat_at > STALLED_AFTER


def _report(build_id: int, **fields) -> None:
    """Progress goes to the row at once (outside any transaction) so the API and the CLI see
    it while the build runs."""
    AppBuild.objects.filter(pk=build_id).update(heartbeat_at=timezone.now(), **fields)


def _claim(build_id: int) -> AppBuild | None:
    """Take the build for this worker: queued, or abandoned by a worker that died. A duplicate
    delivery of the task finds it taken (or done) and does nothing."""
    with transaction.atomic():
        build = AppBuild.objects.select_for_update(skip_locked=True).filter(pk=build_id).first()
        if build is None:
            return None
        if build.status == AppBuild.Status.QUEUED or (build.is_active and build_is_stalled(build)):
            build.status = AppBuild.Status.RENDERING
            build.attempts += 1
            build.started_at = timezone.now()
            build.heartbeat_at = timezone.now()
            build.progress = 1
            build.step = "reading the brand images"
            build.save()
            return build
    return None


class BuildFailed(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _sources(build: AppBuild) -> dict[str, bytes]:
    sources = {}
    for key, ref in build.inputs["images"].items():
        data = storage_read(ref["path"])
        if data is None:
            raise BuildFailed("source_missing", f"The {key} image is missing: {ref['path']}.")
        if hashlib.sha256(data).hexdigest() != ref["sha256"]:
            raise BuildFailed("source_changed", f"The {key} image changed after the request.")
        sources[key] = data
    return sources


def bundle_path(build: AppBuild) -> str:
    slug = build.inputs["tenant"]["slug"]
    version = build.inputs["app"]["version"]
    return f"{slug}/branded-apps/builds/{build.number}/{slug}-{version}-{build.number}.zip"


def build_run(build_id: int, *, progress: Callable[[int, str], None] | None = None) -> AppBuild:
    """Render and upload one build. Idempotent: a build that is not queued (or stalled) is
    left alone. Rendering failures and upload failures mark the build failed with a reason;
    it stays retryable and is never marked ready without its bundle in storage."""

    def report(percent: int, step: str, **fields) -> None:
        _report(build_id, progress=percent, step=step, **fields)
        if progress is not None:
            progress(percent, step)

    build = _claim(build_id)
    if build is None:
        return AppBuild.objects.get(pk=build_id)
    try:
        sources = _sources(build)
        report(5, "rendering")
        bundle = bundle_render(
            build.inputs,
            sources,
            progress=lambda pct, step: report(5 + pct * 70 // 100, step),
        )
        report(80, "uploading the bundle", status=AppBuild.Status.UPLOADING)
        path = bundle_path(build)
        try:
            if default_storage.exists(path):
                default_storage.delete(path)  # an earlier attempt's partial or whole upload
            stored = default_storage.save(path, ContentFile(bundle.data))
        except Exception as exc:  # boto3/botocore or file system errors, whatever the backend
            raise BuildFailed("upload_failed", f"Uploading the bundle failed: {exc}") from exc
        _report(
            build_id,
            status=AppBuild.Status.READY,
            progress=100,
            step="ready",
            bundle_path=stored,
            bundle_sha256=bundle.sha256,
            bundle_bytes=len(bundle.data),
            manifest=bundle.manifest,
            finished_at=timezone.now(),
        )
        tenant_config.invalidate()  # GET /api/v1/portal names the latest release
        if progress is not None:
            progress(100, "ready")
    except BuildFailed as exc:
        _fail(build_id, exc.code, exc.reason)
    except Exception as exc:
        logger.exception("branded app build %s failed", build_id)
        _fail(build_id, "render_failed", f"Rendering failed: {exc}")
    return AppBuild.objects.get(pk=build_id)


def _fail(build_id: int, code: str, reason: str) -> None:
    _report(
        build_id,
        status=AppBuild.Status.FAILED,
        step="failed",
        failure_code=code,
        failure_reason=reason[:2000],
        finished_at=timezone.now(),
    )


def build_download_url(build: AppBuild) -> dict:
    """A download link that expires: presigned by S3 when the bundle is in a bucket, signed by
    us (served by the staff API) when it is on the local disk."""
    if build.status != AppBuild.Status.READY:
        raise ApplicationError(
            "build_not_ready", f"Build {build.number} is {build.status}.", status=409
        )
    ttl = settings.BRANDED_APP_DOWNLOAD_TTL
    expires_at = timezone.now() + timedelta(seconds=ttl)
    storage = storages["default"]
    if hasattr(storage, "bucket_name") and hasattr(storage, "connection"):
        url = storage.connection.meta.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": storage.bucket_name,
                "Key": storage._normalize_name(build.bundle_path),
                "ResponseContentDisposition": f'attachment; filename="{_filename(build)}"',
            },
            ExpiresIn=ttl,
        )
    else:
        token = signing.TimestampSigner(salt=DOWNLOAD_SALT).sign(
            f"{connection.schema_name}:{build.number}"
        )
        url = connection.tenant.url(
            f"/api/v1/staff/app/builds/{build.number}/download?token={token}"
        )
    return {"url": url, "expires_at": expires_at}


def _filename(build: AppBuild) -> str:
    return bundle_path(build).rsplit("/", 1)[-1]


def build_download_open(*, number: int, token: str):
    """The bundle for a signed local download link (dev without S3)."""
    try:
        value = signing.TimestampSigner(salt=DOWNLOAD_SALT).unsign(
            token, max_age=settings.BRANDED_APP_DOWNLOAD_TTL
        )
    except signing.SignatureExpired:
        raise ApplicationError(
            "link_expired", "This download link has expired.", status=410
        ) from None
    except signing.BadSignature:
        raise ApplicationError(
            "link_invalid", "This download link is not valid.", status=404
        ) from None
    if value != f"{connection.schema_name}:{number}":
        raise ApplicationError("link_invalid", "This download link is not valid.", status=404)
    build = AppBuild.objects.filter(number=number, status=AppBuild.Status.READY).first()
    if build is None:
        raise ApplicationError("build_not_found", "No such build.", status=404)
    return build, default_storage.open(build.bundle_path, "rb"), _filename(build)


def _release_load() -> dict:
    build = AppBuild.objects.filter(status=AppBuild.Status.READY).order_by("-number").first()
    if build is None:
        return {"latest_build": None, "latest_version": None}
    return {"latest_build": build.number, "latest_version": build.inputs["app"]["version"]}


def app_release() -> dict:
    """The newest store-ready build, for GET /api/v1/portal: installed apps compare it with
    their own build number to suggest an update. Cached per process like the settings."""
    return tenant_config.get("branded_app_release", _release_load)


def app_screenshots_record(*, screenshots: dict) -> BrandedApp:
    """Remember the rendered store screenshots ({device: [{path, sha256}]}) for the next build."""
    with transaction.atomic():
        app = BrandedApp.objects.select_for_update().get(pk=app_get().pk)
        app.screenshots = screenshots
        app.save(update_fields=["screenshots", "updated_at"])
    tenant_config.invalidate()
    return app
