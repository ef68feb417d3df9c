"""Uploaded media (brand images, staff photos) and where browsers and apps fetch it.

Every public media file lives under its business's prefix, ``<schema>/brand/...`` or
``<schema>/staff/...``, and is linked as ``/media/<path>`` on the business's own host, whatever
the storage: ``media_serve`` (saas_platform.media) answers for local files itself and, on S3,
redirects to a short-lived presigned URL. So the bucket stays private (no public ACLs, which
new AWS buckets refuse anyway), a host serves only its own business's files, and the links
stored in a published theme never expire."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import connection
from storages.backends.s3 import S3Storage

from kernel.cpu_slots import waiting_on_network

# The kinds of media any visitor of the business's portal may fetch. Build bundles and
# screenshots of the branded app live under the same prefix but are never served here.
PUBLIC_MEDIA = ("brand", "staff")


def media_path(path: str) -> str:
    """The portal-relative URL of a stored file (``/media/<path>``); empty for no file."""
    return f"{settings.MEDIA_URL}{path}" if path else ""


def media_absolute_url(path: str) -> str:
    """The same, absolute on the current business's host (for the apps and the directory)."""
    if not path:
        return ""
    tenant = getattr(connection, "tenant", None)
    relative = media_path(path)
    if tenant is None or getattr(tenant, "schema_name", "public") == "public":
        return relative
    return tenant.url(relative)


def public_media_name(path: str, schema: str) -> str | None:
    """``path`` if it is one of ``schema``'s public media files, else None (another
    business's file, a build bundle, a path that climbs out)."""
    parts = path.split("/")
    if (
        len(parts) < 3
        or parts[0] != schema
        or parts[1] not in PUBLIC_MEDIA
        or any(part in ("", ".", "..") for part in parts)
        or "\\" in path
        or "\x00" in path
    ):
        return None
    return path


# Private media (students' photos, ``<schema>/students/...``) is never served by its path: a
# link to it carries a signed token naming the business and the file, made by a page or an API
# answer that has already checked the viewer (the family's guardians, the business's staff),
# and it opens for PRIVATE_MEDIA_TTL seconds on that business's host only.
PRIVATE_MEDIA = ("students",)
PRIVATE_PREFIX = "private/"
_PRIVATE_SALT = "kernel.storage.private-media"


def private_media_path(path: str) -> str:
    """``/media/private/<token>`` for the current business's private file ``path``; empty for
    no file."""
    if not path:
        return ""
    token = signing.dumps([connection.schema_name, path], salt=_PRIVATE_SALT)
    return f"{settings.MEDIA_URL}{PRIVATE_PREFIX}{token}"


def private_media_absolute_url(path: str) -> str:
    """The same, absolute on the current business's host (for the apps)."""
    return on_tenant_host(private_media_path(path))


def on_tenant_host(relative: str) -> str:
    """A portal-relative link made absolute on the current business's host."""
    tenant = getattr(connection, "tenant", None)
    if not relative or tenant is None or getattr(tenant, "schema_name", "public") == "public":
        return relative
    return tenant.url(relative)


def private_media_name(token: str, schema: str) -> str | None:
    """The file a signed token opens on ``schema``'s host, or None: a bad or expired
    signature, another business's token, a path outside the private kinds."""
    try:
        signed_schema, path = signing.loads(
            token, salt=_PRIVATE_SALT, max_age=settings.PRIVATE_MEDIA_TTL
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if signed_schema != schema or not isinstance(path, str):
        return None
    parts = path.split("/")
    if (
        len(parts) < 3
        or parts[0] != schema
        or parts[1] not in PRIVATE_MEDIA
        or any(part in ("", ".", "..") for part in parts)
    ):
        return None
    return path


def staff_photo_upload_to(instance, filename: str) -> str:
    """``upload_to`` of staff photos: under the current business's prefix."""
    return f"{connection.schema_name}/staff/{filename}"


class MediaS3Storage(S3Storage):
    """S3 for media whose links go through ``/media/`` on the business's host (see above);
    ``signed_url`` is what that view redirects to."""

    def url(self, name, parameters=None, expire=None, http_method=None):
        return media_path(name)

    # Each call to S3 waits on the network without a running place (kernel.cpu_slots).
    def save(self, name, content, max_length=None):
        with waiting_on_network():
            return super().save(name, content, max_length=max_length)

    def _open(self, name, mode="rb"):
        with waiting_on_network():
            opened = super()._open(name, mode)
            if "r" in mode:
                opened.file  # noqa: B018 - S3File downloads on first use: here, in the wait
            return opened

    def delete(self, name):
        with waiting_on_network():
            return super().delete(name)

    def signed_url(self, name: str, expire: int) -> str:
        return signed_url(self, name, expire)


def signed_url(storage: S3Storage, name: str, expire: int) -> str:
    """A GET link to ``name`` valid for ``expire`` seconds (a CDN's own URL when the storage
    has a custom domain: the CDN is then what grants access)."""
    key = storage._normalize_name(name)
    if storage.custom_domain:
        return f"{storage.url_protocol}//{storage.custom_domain}/{key}"
    return storage.connection.meta.client.generate_presigned_url(
        "get_object", Params={"Bucket": storage.bucket.name, "Key": key}, ExpiresIn=expire
    )
