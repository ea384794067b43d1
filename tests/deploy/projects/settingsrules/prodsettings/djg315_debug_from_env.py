"""DJG315: DEBUG read from the environment (false here, but can be true)."""

import os

from .base import *  # noqa: F403

DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
