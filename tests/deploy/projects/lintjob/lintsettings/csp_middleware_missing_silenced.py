"""csp_middleware_missing, with DJG393 in SILENCED_SYSTEM_CHECKS: it is not silenced."""

from .csp_middleware_missing import *  # noqa: F403

SILENCED_SYSTEM_CHECKS = ["DJG393"]
