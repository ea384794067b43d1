"""DJG305."""

from .base import *  # noqa: F403

USE_TZ = False
