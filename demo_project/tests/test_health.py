import django
import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from apps.core import health


@pytest.mark.django_db
@pytest.mark.query_budget(1)  # SELECT 1
def test_health_reports_ok(client: Client) -> None:
    response = client.get(reverse("core:health"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_reports_a_broken_database(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise ConnectionError("database is down")

    monkeypatch.setitem(health.CHECKS, "database", broken)

    response = client.get(reverse("core:health"))

    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"database": "error", "cache": "ok"}}


@pytest.mark.django_db
@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}})
def test_health_reports_a_cache_that_drops_writes(client: Client) -> None:

    response = client.get(reverse("core:health"))

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "error"}


def test_home_redirects_to_the_book_list(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:book-list")


def test_responses_carry_a_content_security_policy(client: Client) -> None:
    response = client.get("/")

    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    for directive in ("object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'"):
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert "Content-Security-Policy-Report-Only" not in response


def test_the_policy_comes_from_django_from_6_0_on_and_from_django_csp_before(
    client: Client,
) -> None:
    csp_middleware = [m for m in settings.MIDDLEWARE if "csp" in m.lower()]
    if django.VERSION >= (6, 0):
        assert csp_middleware == ["django.middleware.csp.ContentSecurityPolicyMiddleware"]
    else:
        assert csp_middleware == ["csp.middleware.CSPMiddleware"]
    assert "Content-Security-Policy" in client.get("/")
