"""Bad input: kills the interpreter at import, so the probe writes no result."""

import os

from .base import *  # noqa: F403

os._exit(7)
