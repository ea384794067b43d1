"""The clean production settings."""

from .base import *  # noqa: F403
