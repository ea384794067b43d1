"""Imports and sets up, but Django's URL check raises: the probe crashes."""

from .base import *  # noqa: F403

ROOT_URLCONF = "urls_broken"
