"""django-csp 4: CSPMiddleware with a strict CONTENT_SECURITY_POLICY: clean."""

from csp.constants import NONCE, NONE, SELF

from .base import *  # noqa: F403
from .djg319_no_csp import MIDDLEWARE

MIDDLEWARE = [*MIDDLEWARE, "csp.middleware.CSPMiddleware"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}
