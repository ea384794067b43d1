"""Bad input: blocks at import time (for deploy.timeout)."""

import time

from .base import *  # noqa: F403

time.sleep(60)
