"""DJG314: LOGGING left at Django's default."""

from .base import *  # noqa: F403

LOGGING: dict[str, object] = {}
