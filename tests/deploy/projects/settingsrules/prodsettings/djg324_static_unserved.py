"""DJG324: a relative STATIC_URL and no WhiteNoise middleware."""

from .base import *  # noqa: F403
from .base import MIDDLEWARE

MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise.")]
