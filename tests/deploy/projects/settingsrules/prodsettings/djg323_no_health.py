"""DJG323: no health-check route (only /status/)."""

from .base import *  # noqa: F403

ROOT_URLCONF = "urls_no_health"
