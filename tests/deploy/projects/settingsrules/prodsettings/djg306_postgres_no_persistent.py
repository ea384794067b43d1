"""DJG306: PostgreSQL without persistent connections (never connected to)."""

from .base import *  # noqa: F403

DATABASES = {
    "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "shop", "HOST": "db.invalid"},
}
