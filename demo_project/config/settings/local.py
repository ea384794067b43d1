"""Settings for developer machines. Never deploy these."""

import os

from .base import *  # noqa: F403

DEBUG = True

# Not a secret: only valid on a developer's machine.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "local-development-only-not-a-secret")

ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
