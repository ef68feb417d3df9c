"""Compile every locale/<lang>/LC_MESSAGES/*.po into its .mo with polib (pure Python), so
translators need neither GNU gettext nor Django's compilemessages. ``--check`` only reports
.mo files that are missing or differ from their .po (the test suite runs the same check)."""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalogs() -> list[Path]:
    return sorted(
        po for root in settings.LOCALE_PATHS for po in Path(root).glob("*/LC_MESSAGES/*.po")
    )


def compiled(po_path: Path) -> bytes:
    import polib

    po = polib.pofile(str(po_path))
    return po.to_binary()


def catalog_of(data: bytes) -> dict:
    return dict(gettext.GNUTranslations(io.BytesIO(data))._catalog)


def stale(po_path: Path) -> bool:
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        return True
    return catalog_of(compiled(po_path)) != catalog_of(mo_path.read_bytes())


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po to .mo with polib (no GNU gettext needed)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Only fail if a .mo is missing or stale."
        )

    def handle(self, *args, check: bool = False, **options):
        paths = catalogs()
        if not paths:
            raise CommandError("No .po files under LOCALE_PATHS.")
        bad = []
        for index, po_path in enumerate(paths, 1):
            label = f"[{index}/{len(paths)}] {po_path}"
            if check:
                if stale(po_path):
                    bad.append(po_path)
                    self.stdout.write(f"{label}: stale or missing .mo")
                else:
                    self.stdout.write(f"{label}: up to date")
                continue
            po_path.with_suffix(".mo").write_bytes(compiled(po_path))
            self.stdout.write(f"{label}: compiled")
        if bad:
            raise CommandError(
                f"{len(bad)} .mo file(s) out of date: run `manage.py compile_translations`."
            )
