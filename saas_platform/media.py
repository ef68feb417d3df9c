"""``/media/<path>`` on a business's host: its brand images and staff photos, and nothing
else (see kernel.storage); ``/media/private/<token>``: a private file (a student's photo) whose
signed link a page or the API gave someone allowed to see it. Local files are streamed; on S3
the answer is a redirect to a presigned link. Brand images are named by their content's hash,
so they are cached for a year; staff photos for an hour; private files by the browser only."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.views.decorators.http import require_safe
from storages.backends.s3 import S3Storage

from kernel.storage import PRIVATE_PREFIX, private_media_name, public_media_name, signed_url

YEAR = 365 * 24 * 3600
HOUR = 3600


@require_safe
def media_serve(request, path: str):
    if path.startswith(PRIVATE_PREFIX):
        return _private_serve(path.removeprefix(PRIVATE_PREFIX))
    name = public_media_name(path, connection.schema_name)
    if name is None:
        raise Http404("No such file.")
    content_type = mimetypes.guess_type(name)[0] or ""
    if not content_type.startswith("image/"):
        raise Http404("No such file.")
    max_age = YEAR if name.split("/")[1] == "brand" else HOUR
    storage = default_storage
    if isinstance(storage, S3Storage):
        # The link outlives the browser's cached redirect by a margin.
        expire = settings.MEDIA_SIGNED_URL_TTL
        redirect = HttpResponseRedirect(signed_url(storage, name, expire))
        redirect["Cache-Control"] = f"public, max-age={max(expire - 300, 60)}"
        return redirect
    try:
        handle = storage.open(name, "rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        raise Http404("No such file.") from None
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = f"public, max-age={max_age}" + (
        ", immutable" if max_age == YEAR else ""
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _private_serve(token: str):
    """A private file (a student's photo) through its signed link: only on its business's
    host, only while the signature is fresh; cached by the browser alone, briefly."""
    name = private_media_name(token, connection.schema_name)
    if name is None:
        raise Http404("No such file.")
    content_type = mimetypes.guess_type(name)[0] or ""
    if not content_type.startswith("image/"):
        raise Http404("No such file.")
    storage = default_storage
    if isinstance(storage, S3Storage):
        redirect = HttpResponseRedirect(signed_url(storage, name, 120))
        redirect["Cache-Control"] = "private, max-age=60"
        return redirect
    try:
        handle = storage.open(name, "rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        raise Http404("No such file.") from None
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response
