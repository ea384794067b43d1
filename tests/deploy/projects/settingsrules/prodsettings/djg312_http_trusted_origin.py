"""DJG312: an HTTPS-only site trusting a plain-HTTP origin."""

from .base import *  # noqa: F403

CSRF_TRUSTED_ORIGINS = ["https://example.com", "http://example.com"]
