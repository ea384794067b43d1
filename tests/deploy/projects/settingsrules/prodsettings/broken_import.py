"""Bad input: does not import."""

from .base import *  # noqa: F403
from .no_such_module import SOMETHING  # noqa: F401
