"""DJG311 (flags on, no max-age) and Django's security.W004."""

from .base import *  # noqa: F403

SECURE_HSTS_SECONDS = 0
