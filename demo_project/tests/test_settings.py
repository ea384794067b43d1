"""Smoke tests of the production settings, loaded the way a deployment loads them."""

import importlib
import os
import secrets
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
PRODUCTION = "config.settings.production"


@pytest.fixture
def production_env() -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "example.com, www.example.com,",
        "REDIS_URL": "redis://cache.internal:6379/1",
    }


def load_production_settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> ModuleType:
    """Import the production module afresh with ``env``; undone after the test."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, PRODUCTION, raising=False)
    module = importlib.import_module(PRODUCTION)
    monkeypatch.delitem(sys.modules, PRODUCTION)
    return module


def test_production_settings_are_secure(
    monkeypatch: pytest.MonkeyPatch, production_env: dict[str, str]
) -> None:
    prod = load_production_settings(monkeypatch, production_env)

    assert prod.DEBUG is False
    assert production_env["DJANGO_SECRET_KEY"] == prod.SECRET_KEY
    assert prod.ALLOWED_HOSTS == ["example.com", "www.example.com"]
    assert prod.SECURE_SSL_REDIRECT is True
    assert prod.SECURE_HSTS_SECONDS >= 31536000
    assert prod.SESSION_COOKIE_SECURE is True
    assert prod.CSRF_COOKIE_SECURE is True
    assert prod.DATABASES["default"]["CONN_MAX_AGE"] > 0
    assert prod.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    assert prod.CACHES["default"]["LOCATION"] == "redis://cache.internal:6379/1"
    assert "Manifest" in prod.STORAGES["staticfiles"]["BACKEND"]
    assert prod.ADMIN_URL != "admin/"


def test_production_settings_fail_loudly_without_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, production_env: dict[str, str]
) -> None:
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    del production_env["DJANGO_SECRET_KEY"]

    with pytest.raises(KeyError, match="DJANGO_SECRET_KEY"):
        load_production_settings(monkeypatch, production_env)


def test_deployment_checklist_passes(production_env: dict[str, str]) -> None:
    env = {**os.environ, **production_env, "DJANGO_SETTINGS_MODULE": PRODUCTION}

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
