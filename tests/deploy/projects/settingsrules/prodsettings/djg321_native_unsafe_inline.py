"""DJG321 (Django 6.0+): script-src allows 'unsafe-inline' with no nonce or hash."""

from django.utils.csp import CSP

from .csp_native import *  # noqa: F403

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.UNSAFE_INLINE],
}
