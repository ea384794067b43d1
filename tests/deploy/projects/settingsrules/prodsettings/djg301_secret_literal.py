"""DJG301: the key is committed."""

from .base import *  # noqa: F403

SECRET_KEY = "k3y-committed-to-the-repository-0123456789abcdefghijklmnopqrstuvwxyz"
