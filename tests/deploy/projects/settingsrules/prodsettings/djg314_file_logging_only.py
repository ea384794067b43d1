"""DJG314: errors go to a file only."""

import os

from .base import *  # noqa: F403

LOGGING = {
    "version": 1,
    "handlers": {"file": {"class": "logging.FileHandler", "filename": os.devnull}},
    "root": {"handlers": ["file"], "level": "INFO"},
}
