"""DJG311: preload asked for with a one-hour max-age."""

from .base import *  # noqa: F403

SECURE_HSTS_SECONDS = 3600
