"""Django's models.W042 on the custom user model (no DEFAULT_AUTO_FIELD)."""

from .base import *  # noqa: F403

del DEFAULT_AUTO_FIELD  # noqa: F821
