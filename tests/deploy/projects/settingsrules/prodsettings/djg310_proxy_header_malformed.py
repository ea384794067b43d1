"""DJG310: the header name is not the request.META form."""

from .base import *  # noqa: F403

SECURE_PROXY_SSL_HEADER = ("X-Forwarded-Proto", "https")
