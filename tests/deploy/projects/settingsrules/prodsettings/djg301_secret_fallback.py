"""DJG301: a literal fallback when the variable is unset."""

import os

from .base import *  # noqa: F403

SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "fallback-committed-to-the-repository-0123456789abcdefghijklmnop"
)
