"""Minimal Django settings used only by mypy's django-stubs plugin when checking this package."""

SECRET_KEY = "mypy-only-not-a-secret"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
