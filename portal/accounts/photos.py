"""Students' photos: what a roster, the family's pages and the app show beside a child's name.

A photo is private. It is checked and re-encoded (portal.photos: PNG, JPEG or WebP, at most
5 MB and 4000 px a side, at least 64 px, EXIF and GPS dropped), stored under the business's
prefix (``<schema>/students/<id>-<hash>.<ext>``) and never linked by its path: the pages and the
API hand out a signed, short-lived link (kernel.storage.private_media_path) only to people who
may see it, the family's guardians and the business's staff. Families change it on their
student's page and through the API; staff with ``manage_student_photos`` from the console.

The file is written before the student's row is locked (storage may be S3: no network call
under a row lock) and the file it replaces is deleted after the commit, so a replaced or
removed photo is gone from storage, not only unlinked."""

from __future__ import annotations

import base64
import hashlib
import io

from django.core.files.storage import default_storage
from django.db import connection, transaction

from kernel.storage import private_media_absolute_url, private_media_path
from portal.photos import CONTENT_TYPES, photo_checked

from .errors import student_not_found
from .models import Student


def _delete_later(path: str) -> None:
    if path:
        transaction.on_commit(lambda: default_storage.delete(path))


def _locked(*, family_id: int, student_id: int) -> Student:
    student = (
        Student.objects.select_for_update(of=("self",))
        .filter(pk=student_id, family_id=family_id)
        .first()
    )
    if student is None:
        raise student_not_found()
    return student


def student_photo_upload(*, family_id: int, student_id: int, name: str, data: bytes) -> Student:
    """Check, re-encode and store the photo of the family's student, replacing any earlier one
    (whose file is deleted after the commit). Refused with ``student_not_found`` (404: not this
    family's student) or the photo's own codes (portal.photos.photo_checked); nothing is stored
    then."""
    from portal.privacy.audit import audit_record

    if not Student.objects.filter(pk=student_id, family_id=family_id).exists():
        raise student_not_found()
    encoded, extension = photo_checked(name, data)
    digest = hashlib.sha256(encoded).hexdigest()[:16]
    path = default_storage.save(
        f"{connection.schema_name}/students/{student_id}-{digest}.{extension}",
        io.BytesIO(encoded),
    )
    try:
        with transaction.atomic():
            student = _locked(family_id=family_id, student_id=student_id)
            old = student.photo
            student.photo = path
            student.save(update_fields=["photo"])
            audit_record(action="student_photo_upload", obj=student, fields={"photo": path})
            if old != path:
                _delete_later(old)
    except BaseException:
        default_storage.delete(path)  # the student went away meanwhile: store nothing
        raise
    return student


def student_photo_remove(*, family_id: int, student_id: int) -> Student:
    """Take the student's photo away and delete its file after the commit (no photo: nothing
    changes). ``student_not_found`` (404) for another family's student."""
    from portal.privacy.audit import audit_record

    with transaction.atomic():
        student = _locked(family_id=family_id, student_id=student_id)
        old = student.photo
        if old:
            student.photo = ""
            student.save(update_fields=["photo"])
            audit_record(action="student_photo_remove", obj=student, fields={"photo": old})
            _delete_later(old)
    return student


def student_photo_url(student: Student) -> str:
    """The signed link (on this business's host, valid for PRIVATE_MEDIA_TTL seconds) to the
    student's photo; empty when there is none. Callers have checked that the viewer may see
    the student."""
    return private_media_path(student.photo)


def student_photo_absolute_url(student: Student) -> str | None:
    """The same, absolute (for the apps); None when there is no photo."""
    return private_media_absolute_url(student.photo) or None


def student_initials(student: Student) -> str:
    """What a roster shows when there is no photo."""
    return "".join(part[:1] for part in (student.first_name, student.last_name)).upper()


def student_photos_export(students: list[Student]) -> list[dict]:
    """The family's data export of its students' photos: each file's bytes (base64) with its
    type. A file missing from storage is listed with ``data`` None."""
    out = []
    for student in students:
        if not student.photo:
            continue
        try:
            with default_storage.open(student.photo, "rb") as handle:
                data: str | None = base64.b64encode(handle.read()).decode()
        except (FileNotFoundError, OSError):
            data = None
        extension = student.photo.rsplit(".", 1)[-1]
        out.append(
            {
                "student_id": student.pk,
                "content_type": CONTENT_TYPES.get(extension, "application/octet-stream"),
                "data_base64": data,
            }
        )
    return out


def student_photos_forget(*, family_id: int) -> int:
    """Deleting a family's data: unlink every student's photo and delete the files after the
    commit. The caller holds the family's transaction."""
    with_photos = Student.objects.filter(family_id=family_id).exclude(photo="")
    paths = list(with_photos.values_list("photo", flat=True))
    with_photos.update(photo="")
    for path in paths:
        _delete_later(path)
    return len(paths)
