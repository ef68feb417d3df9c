"""gzip for text answers (saas_platform/compression.py): pages and JSON are compressed when the
client accepts gzip; images, fonts, answers that carry an ETag and answers under one TCP
segment are not."""

from __future__ import annotations

import gzip
import json

import pytest
from django.db import connection

from tests.factories import OfferingFactory
from tests.helpers import client_for, web_client

pytestmark = pytest.mark.django_db


def test_a_page_is_gzipped_when_the_browser_accepts_it(tenant_a):
    client = web_client(tenant_a)
    plain = client.get("/classes/")
    assert plain.status_code == 200 and "Content-Encoding" not in plain
    packed = client.get("/classes/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert packed.status_code == 200
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    page = gzip.decompress(packed.content).decode()
    assert "<h1>Classes</h1>" in page and len(packed.content) < len(page.encode()) / 2


def test_api_json_is_gzipped(in_tenant_a):
    for n in range(3):
        OfferingFactory(name=f"Tumbling {n}")
    connection.set_schema_to_public()
    response = client_for(in_tenant_a).get("/api/v1/offerings", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(response.content))
    assert {row["name"] for row in body["results"]} >= {"Tumbling 0", "Tumbling 2"}


def test_answers_with_an_etag_keep_their_strong_validator(tenant_a):
    """/embed.js is revalidated with If-None-Match: gzip would turn its ETag weak and the 304
    would never come."""
    client = web_client(tenant_a)
    first = client.get("/embed.js", HTTP_ACCEPT_ENCODING="gzip")
    assert first.status_code == 200 and "Content-Encoding" not in first
    etag = first["ETag"]
    assert not etag.startswith("W/")
    again = client.get("/embed.js", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304


def test_binary_answers_are_not_gzipped(tenant_a):
    """A PNG, a PDF or a font is compressed already."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from saas_platform.compression import TextGZipMiddleware

    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING="gzip")
    for content_type in ("image/png", "application/pdf", "font/woff2"):
        middleware = TextGZipMiddleware(lambda r, ct=content_type: HttpResponse(b"x" * 5000, ct))
        response = middleware(request)
        assert "Content-Encoding" not in response, content_type
        assert response.content == b"x" * 5000
    middleware = TextGZipMiddleware(lambda r: HttpResponse("x" * 5000, "text/html"))
    assert middleware(request)["Content-Encoding"] == "gzip"


def test_answers_under_one_segment_are_sent_as_they_are():
    """gzip cannot shorten a few hundred bytes of JSON by a packet (a waiting-room poll's
    answer): those go out plain, with no Vary on Accept-Encoding; from ``MIN_LENGTH`` on they
    are compressed."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from saas_platform.compression import MIN_LENGTH, TextGZipMiddleware

    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING="gzip")

    def body(length: int) -> str:
        return '{"pad":"' + "x" * (length - 10) + '"}'

    small, large = body(MIN_LENGTH - 1), body(MIN_LENGTH)
    assert (len(small), len(large)) == (MIN_LENGTH - 1, MIN_LENGTH)
    for plain in (body(300), small):  # a poll's answer is about 300 bytes
        response = TextGZipMiddleware(lambda r, p=plain: HttpResponse(p, "application/json"))(
            request
        )
        assert "Content-Encoding" not in response and not response.has_header("Vary")
        assert response.content == plain.encode()
    response = TextGZipMiddleware(lambda r: HttpResponse(large, "application/json"))(request)
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content) == large.encode()
