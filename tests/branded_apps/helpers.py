"""Shared steps of the branded-app tests: request a build through the staff API and download
its bundle (presigned by the S3 server, or signed by us for local files)."""

from __future__ import annotations

import requests

from tests.helpers import client_for

API = "/api/v1"
APP = f"{API}/staff/app"


def request_build(actor, capture):
    with capture(execute=True):
        response = actor.client().post(f"{APP}/builds")
    assert response.status_code == 202, response.content
    return response.json()


def download(actor, number: int) -> tuple[dict, bytes]:
    detail = actor.client().get(f"{APP}/builds/{number}").json()
    assert detail["status"] == "ready", detail
    url = detail["download"]["url"]
    if url.startswith("http://127.0.0.1"):  # presigned by the S3 server
        return detail, requests.get(url, timeout=10).content
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = client_for(actor.tenant).get("/" + path)
    assert response.status_code == 200, response.content[:300]
    return detail, b"".join(response.streaming_content)
