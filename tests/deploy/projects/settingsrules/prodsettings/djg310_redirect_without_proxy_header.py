"""DJG310: SSL redirect with no proxy header."""

from .base import *  # noqa: F403

SECURE_PROXY_SSL_HEADER = None
