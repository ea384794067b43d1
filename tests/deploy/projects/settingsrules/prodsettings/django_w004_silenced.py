"""security.W004 silenced globally."""

from .django_w004_no_hsts import *  # noqa: F403

SILENCED_SYSTEM_CHECKS = ["security.W004", "DJG313"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
