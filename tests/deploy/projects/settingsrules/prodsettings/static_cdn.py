"""Static files from a CDN (absolute STATIC_URL), no WhiteNoise: clean."""

from .djg324_static_unserved import *  # noqa: F403

STATIC_URL = "https://cdn.example.com/static/"
