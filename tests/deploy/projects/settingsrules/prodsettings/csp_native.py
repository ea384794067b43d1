"""Django 6.0+: the native ContentSecurityPolicyMiddleware with a strict SECURE_CSP: clean."""

from django.utils.csp import CSP

from .base import *  # noqa: F403
from .base import TEMPLATES
from .djg319_no_csp import MIDDLEWARE

MIDDLEWARE = [*MIDDLEWARE, "django.middleware.csp.ContentSecurityPolicyMiddleware"]
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# CSP.NONCE: templates get {{ csp_nonce }} (Django 6.1 warns, security.W027, without it).
TEMPLATES = [
    {
        **TEMPLATES[0],
        "OPTIONS": {
            "context_processors": [
                *TEMPLATES[0]["OPTIONS"]["context_processors"],
                "django.template.context_processors.csp",
            ]
        },
    }
]
