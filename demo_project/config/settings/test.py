"""Settings for the test suite: fast, hermetic, and as close to production as is cheap."""

from .base import *  # noqa: F403
from .base import DATABASE_URL

DEBUG = False

# Not a secret: only ever used by the test suite.
SECRET_KEY = "test-suite-only-not-a-secret"  # noqa: S105

ALLOWED_HOSTS = ["testserver", "localhost"]

if not DATABASE_URL:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Hashing with PBKDF2 is deliberately slow; tests do not need that.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["null"], "level": "WARNING"},
}
