import pytest
from django.db import connection
from django.test import override_settings

from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "host", [None, "platform-port", "alpha", "unknown.example.org", "10.0.0.7"]
)
def test_healthz_answers_on_every_host_with_detail_only_on_the_platform_host(host, tenant_a):
    client = client_for(tenant_a if host == "alpha" else None)
    if host == "platform-port":
        client.defaults["HTTP_HOST"] += ":8000"
    elif host not in (None, "alpha"):
        client.defaults["HTTP_HOST"] = host
    response = client.get("/healthz")
    assert response.status_code == 200
    if host in (None, "platform-port"):
        assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    else:
        assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_healthz_says_which_dependency_is_down_only_on_the_platform_host(monkeypatch, tenant_a):
    from saas_platform import health

    monkeypatch.setattr(health, "check_redis", lambda: "unavailable")
    response = client_for(tenant_a).get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    response = client_for(None).get("/healthz")
    assert response.json() == {"status": "unavailable", "database": "ok", "redis": "unavailable"}


def test_healthz_reports_redis_down():
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=caches):
        response = client_for(None).get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "redis": "unavailable"}


def test_healthz_reports_database_down(monkeypatch):
    def broken_cursor(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client_for(None).get("/healthz")
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable", "redis": "ok"}


def test_healthz_rejects_writes():
    response = client_for(None).post("/healthz")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
