"""DJG321 (django-csp 4): script-src allows 'unsafe-inline'."""

from csp.constants import SELF, UNSAFE_INLINE

from .csp_django_csp4 import *  # noqa: F403

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, UNSAFE_INLINE]},
}
