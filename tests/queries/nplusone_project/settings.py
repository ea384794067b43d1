"""Settings of the N+1 scenario project (SQLite, or PostgreSQL when DATABASE_URL is set)."""

import os

SECRET_KEY = "scenario-project-not-a-secret"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "shop",
]
ROOT_URLCONF = "shop.urls"
# No middleware by default; the scenarios of a library's view set their own.
MIDDLEWARE: list[str] = []
STATIC_URL = "/static/"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
    }
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The project's backend logs in by email (a user name without "@" is left to ModelBackend).
AUTHENTICATION_BACKENDS = [
    "shop.backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins

_url = os.environ.get("DATABASE_URL")
if _url:
    import dj_database_url

    DATABASES = {
        "default": dj_database_url.parse(_url),
        "other": dj_database_url.parse(_url),
    }
    DATABASES["other"]["TEST"] = {"NAME": DATABASES["default"]["NAME"] + "_other"}
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    }
