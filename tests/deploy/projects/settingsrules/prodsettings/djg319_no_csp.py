"""DJG319: no Content Security Policy middleware at all."""

from .base import *  # noqa: F403
from .base import MIDDLEWARE

MIDDLEWARE = [m for m in MIDDLEWARE if ".csp" not in m and not m.startswith("csp.")]
