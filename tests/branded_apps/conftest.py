"""A business whose app passes pre-flight: a published theme with an app icon and a logo, the
store URLs and listing written, one class on offer."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image, ImageDraw

from tests.helpers import make_actor

API = "/api/v1"


def icon_png(*, alpha: bool = False, size: int = 1024) -> bytes:
    mode = "RGBA" if alpha else "RGB"
    image = Image.new(mode, (size, size), (29, 78, 216, 255) if alpha else (29, 78, 216))
    draw = ImageDraw.Draw(image)
    draw.ellipse((size // 4, size // 4, size * 3 // 4, size * 3 // 4), fill=(250, 204, 21))
    if alpha:
        draw.rectangle((0, 0, size // 8, size // 8), fill=(0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def logo_png() -> bytes:
    image = Image.new("RGBA", (480, 160), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((20, 20, 460, 140), fill=(190, 18, 60, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def upload(actor, field: str, data: bytes, name: str):
    return actor.client().post(
        f"{API}/staff/theme/draft/images/{field}",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
    )


@pytest.fixture
def app_staff(in_tenant_a):
    actor = make_actor(in_tenant_a, email="apps@alpha.test", role="manager")
    connection.set_tenant(in_tenant_a)
    return actor


def make_ready(actor, tenant) -> None:
    """Everything pre-flight asks for, through the same API staff use."""
    from tests.factories import OfferingFactory

    assert upload(actor, "app_icon", icon_png(), "icon.png").status_code == 200
    assert upload(actor, "logo", logo_png(), "logo.png").status_code == 200
    assert actor.client().post(f"{API}/staff/theme/publish").status_code == 201
    response = actor.client().patch(
        f"{API}/staff/app",
        {
            "display_name": "Alpha Gym",
            "ios_bundle_id": "com.alphagym.portal",
            "android_package": "com.alphagym.portal",
            "support_url": "https://alpha.example/support",
            "privacy_url": "https://alpha.example/privacy",
            "marketing_url": "https://alpha.example",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    response = actor.client().put(
        f"{API}/staff/app/listings/en-US",
        {
            "subtitle": "Classes, camps and more",
            "keywords": "gymnastics,classes,kids,camps",
            "promotional_text": "Summer camps are open.",
            "description": "Enroll in classes, report absences and pay online.",
            "play_short_description": "Enroll, pay and keep up with your gym.",
            "release_notes": "First release.",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    connection.set_tenant(tenant)
    OfferingFactory()


@pytest.fixture
def ready_app(app_staff, tenant_a):
    make_ready(app_staff, tenant_a)
    return app_staff
