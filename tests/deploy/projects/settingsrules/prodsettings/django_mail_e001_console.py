"""Django 6.1+: MAILERS["default"] that never delivers (Django's own mail.E001, not DJG317)."""

from .base import *  # noqa: F403

MAILERS = {
    "default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"},
}
