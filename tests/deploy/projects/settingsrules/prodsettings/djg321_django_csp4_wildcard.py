"""DJG321 (django-csp 4): default-src * and no script-src: scripts from any host."""

from .csp_django_csp4 import *  # noqa: F403

CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["*"], "img-src": ["*"]}}
