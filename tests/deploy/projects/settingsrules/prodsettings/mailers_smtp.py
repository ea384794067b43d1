"""Django 6.1+: MAILERS with an SMTP default mailer: clean (and EMAIL_BACKEND is never read)."""

from .base import *  # noqa: F403

MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "smtp.example.com", "port": 587, "use_tls": True},
    },
}
