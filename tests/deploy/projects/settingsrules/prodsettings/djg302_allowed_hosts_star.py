"""DJG302."""

from .base import *  # noqa: F403

ALLOWED_HOSTS = ["*"]
