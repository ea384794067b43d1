"""DJG323: /health/ resolves, but only to a catch-all page view."""

from .base import *  # noqa: F403

ROOT_URLCONF = "urls_catch_all"
