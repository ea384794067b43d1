"""Imports and sets up, but the URLconf raises when imported: Django's URL checks and the
rules that read the URLconf (DJG308, DJG323) could not look; every other rule runs."""

from .base import *  # noqa: F403

ROOT_URLCONF = "urls_broken"
