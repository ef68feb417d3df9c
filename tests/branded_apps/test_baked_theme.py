"""The theme fields that need a new app build (theming.models.BINARY_FIELDS) are exactly those
the bundle bakes into the launcher icon and the splash screen: each colour is changed alone,
the bundle rendered again, and its launcher and splash files compared."""

from __future__ import annotations

import copy
import json

import pytest

from branded_apps import services
from branded_apps.bundle import bundle_render
from theming.models import BINARY_FIELDS, COLOUR_ROLES
from theming.services import theme_current
from theming.tokens import build_tokens

pytestmark = pytest.mark.django_db


def baked_files(inputs: dict, sources: dict) -> dict:
    import io
    import zipfile

    bundle = bundle_render(inputs, sources)
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    expo = json.loads(files["app.config.json"])["expo"]
    baked = {
        name: data
        for name, data in files.items()
        if name == "assets/splash.png" or name.endswith("/ic_launcher_background.png")
    }
    baked["config"] = json.dumps(
        [expo["splash"], expo["android"]["adaptiveIcon"]], sort_keys=True
    ).encode()
    return baked


def test_binary_theme_fields_are_what_the_launcher_and_splash_bake(ready_app):
    inputs = services.build_inputs(build_number=1)
    sources = {key: services.storage_read(ref["path"]) for key, ref in inputs["images"].items()}
    snapshot = theme_current().snapshot
    base = baked_files(inputs, sources)
    baked = set()
    for role in COLOUR_ROLES:
        changed = copy.deepcopy(inputs)
        changed["theme"]["tokens"] = build_tokens({**snapshot, role: "#5b21b6"})
        if baked_files(changed, sources) != base:
            baked.add(role)
        # and the fingerprint that decides "a build is needed" sees it too
        moved = services.binary_fingerprint(changed) != services.binary_fingerprint(inputs)
        assert moved is (role in baked), role
    assert baked == BINARY_FIELDS & set(COLOUR_ROLES) == {"primary", "background"}
    # The logo is the splash artwork.
    other_logo = {**sources, "splash_artwork": sources["app_icon"]}
    assert baked_files(inputs, other_logo)["assets/splash.png"] != base["assets/splash.png"]
    assert "logo" in BINARY_FIELDS and "app_icon" in BINARY_FIELDS
