"""The Content Security Policy sent by a middleware whose package is not installed here.

The policy settings are set, but the CSP middleware is not listed by its own path: the
only candidate is ``csp_nonce.middleware.NonceCSPMiddleware``, which might subclass it
and cannot be imported here. DJG319, DJG320 and DJG321 could not look.
"""

from .base import *  # noqa: F403
from .base import MIDDLEWARE

MIDDLEWARE = [
    *(m for m in MIDDLEWARE if ".csp" not in m and not m.startswith("csp.")),
    "csp_nonce.middleware.NonceCSPMiddleware",
]
