"""Django's own security.W004 (no HSTS), for allows and fail levels."""

from .base import *  # noqa: F403

SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
