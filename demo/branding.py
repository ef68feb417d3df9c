"""The demo businesses' brands and branded apps: each gets its own published theme, a logo, an
app icon, and an app record with store text in English and Spanish, so `make demo` can build
both apps (``python manage.py branded_app_build acme``)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

THEMES = {
    "acme": {"primary": "#b91c1c", "secondary": "#1e3a8a", "accent": "#b45309",
             "background": "#fffbeb", "surface": "#fef3c7", "text": "#1c1917", "error": "#991b1b",
             "font": "poppins", "header_style": "banner", "class_list_layout": "grid",
             "corner_radius": 16, "density": "spacious"},
    "zen": {"primary": "#0e7490", "secondary": "#0369a1", "accent": "#7c3aed",
            "background": "#f0f9ff", "surface": "#e0f2fe", "text": "#0c4a6e", "error": "#b91c1c",
            "font": "nunito", "header_style": "centered", "class_list_layout": "list",
            "corner_radius": 4, "density": "comfortable"},
}  # fmt: skip

APPS = {
    "acme": {
        "record": {
            "display_name": "Acme Gym",
            "ios_bundle_id": "com.acmegymnastics.portal",
            "android_package": "com.acmegymnastics.portal",
            "support_url": "https://acme.example/support",
            "marketing_url": "https://acme.example",
            "privacy_url": "https://acme.example/privacy",
        },
        "listings": {
            "en-US": {
                "subtitle": "Classes, camps and team",
                "keywords": "gymnastics,tumbling,ninja,kids,camps,classes",
                "promotional_text": "Fall session registration is open.",
                "description": "Enroll your children in gymnastics classes and camps, report "
                "absences, book makeups and pay online with Acme Gymnastics.",
                "play_short_description": "Gymnastics classes and camps for your family.",
                "release_notes": "Our first app: enroll, pay and follow your classes.",
            },
            "es-MX": {
                "subtitle": "Clases, campamentos y equipo",
                "keywords": "gimnasia,niños,campamentos,clases",
                "description": "Inscriba a sus hijos en clases y campamentos de gimnasia, "
                "avise ausencias y pague en línea con Acme Gymnastics.",
                "play_short_description": "Clases y campamentos de gimnasia para su familia.",
                "release_notes": "Nuestra primera app.",
            },
        },
    },
    "zen": {
        "record": {
            "display_name": "Zen Swim",
            "ios_bundle_id": "com.zenswimschool.portal",
            "android_package": "com.zenswimschool.portal",
            "support_url": "https://zen.example/help",
            "privacy_url": "https://zen.example/privacy",
        },
        "listings": {
            "en-US": {
                "subtitle": "Swim lessons for all ages",
                "keywords": "swim,lessons,pool,kids,water safety",
                "description": "Book small-group and private swim lessons, follow your "
                "child's progress and pay online with Zen Swim School.",
                "play_short_description": "Swim lessons for children and adults.",
                "release_notes": "Welcome to the Zen Swim School app.",
            },
        },
    },
}


def logo_png(slug: str, colour: str) -> bytes:
    """A simple wordmark, so the demo directory and portal show a logo."""
    image = Image.new("RGB", (360, 96), colour)
    ImageDraw.Draw(image).text((24, 30), slug.upper(), fill="#ffffff", font_size=36)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def app_icon_png(slug: str, colour: str) -> bytes:
    """A 1024x1024 opaque icon: the business's initial on its brand colour."""
    image = Image.new("RGB", (1024, 1024), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((192, 192, 832, 832), fill="#ffffff")
    draw.text((512, 520), slug[0].upper(), fill=colour, font_size=420, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def brand_demo(slug: str) -> None:
    """Each demo business gets its own published theme with a logo and an app icon (once)."""
    from theming.services import brand_image_upload, brand_update, theme_current, theme_publish

    wanted = THEMES[slug]
    current = theme_current()
    if (
        current is not None
        and current.snapshot.get("primary") == wanted["primary"]
        and current.snapshot.get("app_icon")
    ):
        return
    brand_update(**wanted)
    brand_image_upload(field="logo", name="logo.png", data=logo_png(slug, wanted["primary"]))
    brand_image_upload(
        field="app_icon", name="icon.png", data=app_icon_png(slug, wanted["primary"])
    )
    theme_publish(published_by="demo")


def app_demo(slug: str) -> None:
    """The business's app record and store text (identifiers only until the first build)."""
    from branded_apps.services import app_get, app_update, listing_upsert

    spec = APPS[slug]
    app = app_get()
    record = dict(spec["record"])
    if app.identifiers_locked:
        record.pop("ios_bundle_id")
        record.pop("android_package")
    app_update(**record)
    for locale, fields in spec["listings"].items():
        listing_upsert(locale=locale, **fields)
