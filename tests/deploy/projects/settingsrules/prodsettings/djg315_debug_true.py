"""DJG315 and Django's security.W018: DEBUG = True."""

from .base import *  # noqa: F403

DEBUG = True
