"""DJG309."""

from .base import *  # noqa: F403

AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []
