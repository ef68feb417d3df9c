"""The store-ready bundle: a zip of everything a mobile build pipeline (Expo/EAS or fastlane)
consumes, rendered from a build's frozen inputs.

``bundle_render`` is pure: the same inputs and source images give byte-identical zips (sorted
entries, fixed timestamps and permissions, deterministic PNGs and JSON)."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from theming import emitters
from theming.tokens import colour_hex

from . import images, project

# 2: the bundle is a whole Expo project (the app's source, branding.json, eas.json); the
# pre-rendered native resources moved under native/ so `expo prebuild` can write ios/ and
# android/; store locales are spelled as each store wants.
FORMAT = 2
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
IOS_TEXT_FILES = (
    "name",
    "subtitle",
    "description",
    "keywords",
    "promotional_text",
    "release_notes",
    "support_url",
    "marketing_url",
    "privacy_url",
)
# Pre-rendered native resources (icons, colour sets) for pipelines that build without Expo's
# prebuild; kept out of ios/ and android/, which `expo prebuild` generates.
NATIVE = "native/"
ADAPTIVE_ICON_XML = """<?xml version="1.0" encoding="utf-8"?>
<adaptive-icon xmlns:android="http://schemas.android.com/apk/res/android">
    <background android:drawable="@mipmap/ic_launcher_background" />
    <foreground android:drawable="@mipmap/ic_launcher_foreground" />
</adaptive-icon>
"""


@dataclass
class Bundle:
    data: bytes
    manifest: dict
    sha256: str


def _json(value) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _text(value: str) -> bytes:
    return (value.strip() + "\n").encode() if value.strip() else b""


def _merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def baked_colours(inputs: dict) -> dict:
    """The theme colours the binary bakes in (a change needs a new build): the Android
    adaptive launcher icon's background and the splash screen's background."""
    theme = inputs.get("theme")
    if not theme:
        return {"launcher_background": "", "splash_background": ""}
    colours = colour_hex(theme["tokens"])
    return {"launcher_background": colours["primary"], "splash_background": colours["background"]}


def expo_config(inputs: dict) -> dict:
    app, tenant, theme = inputs["app"], inputs["tenant"], inputs["theme"]
    baked = baked_colours(inputs)
    config = {
        "name": app["display_name"],
        "slug": tenant["slug"],
        "scheme": app["scheme"],
        "version": app["version"],
        "orientation": "portrait",
        "icon": "./assets/icon.png",
        "splash": {
            "image": "./assets/splash.png",
            "resizeMode": "contain",
            "backgroundColor": baked["splash_background"],
        },
        "ios": {
            "bundleIdentifier": app["ios_bundle_id"],
            "buildNumber": str(app["build_number"]),
            "supportsTablet": True,
            "icon": f"./{NATIVE}ios/AppIcon.appiconset/AppIcon-1024.png",
        },
        "android": {
            "package": app["android_package"],
            "versionCode": app["build_number"],
            "icon": "./assets/icon.png",
            "adaptiveIcon": {
                "foregroundImage": "./assets/adaptive-icon-foreground.png",
                "backgroundColor": baked["launcher_background"],
            },
        },
        "extra": {
            "tenant": tenant["slug"],
            "apiBaseUrl": tenant["api_base_url"],
            "portalUrl": tenant["portal_url"],
            "runtimeConfigUrl": tenant["api_base_url"] + "portal",
            "themeVersion": theme["version"],
            "themeTokensUrl": tenant["api_base_url"] + "theme/tokens.json",
        },
    }
    return {"expo": _merge(config, emitters.app_config(theme["tokens"], theme["version"]))}


def ios_appiconset() -> dict:
    return {
        "images": [
            {
                "filename": "AppIcon-1024.png",
                "idiom": "universal",
                "platform": "ios",
                "size": "1024x1024",
            }
        ],
        "info": {"author": "xcode", "version": 1},
    }


def _files(inputs: dict, sources: dict[str, bytes], step: Callable[[str], None]):
    """Yield (path, bytes) for every file of the bundle but the manifest."""
    app, theme = inputs["app"], inputs["theme"]
    tokens = theme["tokens"]
    colours = colour_hex(tokens)
    on_primary = colours.get("on-primary", "#ffffff")
    icon = images.icon_image(sources["app_icon"])
    artwork = (
        images.open_artwork(sources["splash_artwork"]) if "splash_artwork" in sources else icon
    )

    step("app config")
    if inputs.get("app_source"):
        yield from project.source_for(inputs["app_source"]).items()
        yield "branding.json", _json(project.branding(inputs, colours))
        yield "eas.json", _json(project.eas_json())
        yield "store/privacy.json", _json(project.privacy_answers(inputs))
        yield "BUILD.md", project.BUILD_README.format(
            name=app["display_name"], version=inputs["app_source"]["version"],
            source=inputs["app_source"]["sha256"][:12], ios=app["ios_bundle_id"],
            android=app["android_package"],
        ).encode()  # fmt: skip
        review = inputs.get("review") or {}
        for key in ("demo_user", "demo_password", "notes"):
            if review.get(key):
                yield f"fastlane/metadata/review_information/{key}.txt", _text(review[key])
    yield "app.config.json", _json(expo_config(inputs))
    yield "tokens.json", _json(tokens)
    yield "assets/icon.png", images.png(icon)
    baked = baked_colours(inputs)
    yield "assets/splash.png", images.png(images.splash(artwork, baked["splash_background"]))
    yield (
        "assets/adaptive-icon-foreground.png",
        images.png(images.adaptive_foreground(icon, images.ICON_SIZE)),
    )

    step("iOS icon and colours")
    yield f"{NATIVE}ios/AppIcon.appiconset/AppIcon-1024.png", images.png(icon)
    yield f"{NATIVE}ios/AppIcon.appiconset/Contents.json", _json(ios_appiconset())
    catalog = {"info": {"author": "xcode", "version": 1}}
    yield f"{NATIVE}ios/BrandColors.xcassets/Contents.json", _json(catalog)
    for name, contents in emitters.ios_colorsets(tokens).items():
        yield f"{NATIVE}ios/BrandColors.xcassets/{name}", contents.encode()

    step("Android icons and colours")
    res = f"{NATIVE}android/app/src/main/res"
    for density, size in images.LEGACY_SIZES.items():
        yield f"{res}/mipmap-{density}/ic_launcher.png", images.png(images.resized(icon, size))
    for density, size in images.ADAPTIVE_SIZES.items():
        yield (
            f"{res}/mipmap-{density}/ic_launcher_foreground.png",
            images.png(images.adaptive_foreground(icon, size)),
        )
        yield (
            f"{res}/mipmap-{density}/ic_launcher_background.png",
            images.png(images.solid(baked["launcher_background"], (size, size))),
        )
    yield f"{res}/mipmap-anydpi-v26/ic_launcher.xml", ADAPTIVE_ICON_XML.encode()
    yield f"{res}/values/colors.xml", emitters.android_colors_xml(tokens).encode()
    night = emitters.android_night_colors_xml(tokens)
    if night:
        yield f"{res}/values-night/colors.xml", night.encode()

    step("store images")
    play_icon = images.png(images.resized(icon, images.PLAY_ICON_SIZE))
    feature = images.png(
        images.feature_graphic(icon, app["display_name"], colours["primary"], on_primary)
    )

    step("store metadata")
    for listing in inputs["listings"]:
        locale = listing["locale"]
        ios_values = {
            **{key: listing.get(key, "") for key in IOS_TEXT_FILES},
            "name": listing.get("name") or app["display_name"],
            "support_url": app["support_url"],
            "marketing_url": app["marketing_url"],
            "privacy_url": app["privacy_url"],
        }
        for key in IOS_TEXT_FILES:
            yield (
                f"fastlane/metadata/{project.app_store_locale(locale)}/{key}.txt",
                _text(ios_values[key]),
            )
        play = f"fastlane/metadata/android/{project.play_locale(locale)}"
        yield f"{play}/title.txt", _text(listing.get("name") or app["display_name"])
        yield f"{play}/short_description.txt", _text(listing.get("play_short_description", ""))
        yield (
            f"{play}/full_description.txt",
            _text(listing.get("play_full_description") or listing.get("description", "")),
        )
        if listing.get("release_notes"):
            yield f"{play}/changelogs/{app['build_number']}.txt", _text(listing["release_notes"])
        for key, data in sorted(sources.items()):
            if not key.startswith("screenshot/"):
                continue
            _, device, number = key.split("/")
            if device == "android":
                yield f"{play}/images/phoneScreenshots/{number}.png", data
            else:
                store_locale = project.app_store_locale(locale)
                yield f"fastlane/screenshots/{store_locale}/{device}-{number}.png", data
        yield f"{play}/images/icon.png", play_icon
        yield f"{play}/images/featureGraphic.png", feature


def _zip_entry(path: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, whatever machine builds it
    info.external_attr = 0o100644 << 16
    return info


def bundle_render(
    inputs: dict,
    sources: dict[str, bytes],
    *,
    progress: Callable[[int, str], None] | None = None,
) -> Bundle:
    """Render the zip. ``sources``: the bytes of the images named in ``inputs["images"]``
    (checked against their recorded SHA-256 by the caller). ``progress(percent, step)`` is
    called as rendering goes (0..100 of the rendering stage)."""
    steps = ["app config", "iOS icon and colours", "Android icons and colours", "store images",
             "store metadata"]  # fmt: skip

    def step(name: str) -> None:
        if progress is not None:
            progress(int(100 * steps.index(name) / len(steps)), f"rendering {name}")

    files = dict(_files(inputs, sources, step))
    manifest = {
        "format": FORMAT,
        "tenant": inputs["tenant"]["slug"],
        "app": {
            "name": inputs["app"]["display_name"],
            "ios_bundle_id": inputs["app"]["ios_bundle_id"],
            "android_package": inputs["app"]["android_package"],
            "version": inputs["app"]["version"],
            "build_number": inputs["app"]["build_number"],
        },
        "theme_version": inputs["theme"]["version"],
        "files": [
            {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for path, data in sorted(files.items())
        ],
    }
    files["manifest.json"] = _json(manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(files):
            archive.writestr(_zip_entry(path), files[path], compresslevel=9)
    data = buffer.getvalue()
    if progress is not None:
        progress(100, "rendered")
    return Bundle(data=data, manifest=manifest, sha256=hashlib.sha256(data).hexdigest())
