"""Django 6.1+: MAILERS without a "default" mailer (Django's own mail.W001)."""

from .base import *  # noqa: F403

MAILERS = {
    "newsletters": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"},
}
