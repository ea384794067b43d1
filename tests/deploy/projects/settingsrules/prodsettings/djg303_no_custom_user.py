"""DJG303: no custom user model (AUTH_USER_MODEL never set)."""

from .common import *  # noqa: F403
