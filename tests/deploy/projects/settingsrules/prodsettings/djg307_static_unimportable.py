"""DJG307: a staticfiles storage that cannot be imported."""

from .base import *  # noqa: F403
from .base import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "storages.backends.s3.NoSuchStorage"}}
