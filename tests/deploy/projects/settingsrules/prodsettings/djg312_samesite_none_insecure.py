"""DJG312: SameSite=None language cookie without Secure."""

from .base import *  # noqa: F403

LANGUAGE_COOKIE_SAMESITE = "None"
