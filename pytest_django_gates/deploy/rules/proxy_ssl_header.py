"""DJG310: ``SECURE_PROXY_SSL_HEADER`` malformed, or missing while redirecting to HTTPS.

- A header that is not a ``(name, value)`` pair of strings, or whose name is not
  the ``request.META`` form (``HTTP_X_FORWARDED_PROTO``: ``HTTP_`` prefix, upper
  case, underscores), never matches: every request looks like plain HTTP.
- ``SECURE_SSL_REDIRECT = True`` without ``SECURE_PROXY_SSL_HEADER``: behind a
  proxy that terminates TLS, every request looks like HTTP and is redirected
  forever. A server that terminates TLS itself allows this with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule

_META_NAME = re.compile(r"^HTTP_[A-Z0-9_]+$")


def check(ctx: SettingsContext) -> Iterator[Issue]:
    header = ctx.settings.SECURE_PROXY_SSL_HEADER
    if header is not None:
        if not (
            isinstance(header, tuple | list)
            and len(header) == 2
            and all(isinstance(part, str) and part for part in header)
        ):
            yield RULE.issue(
                f"SECURE_PROXY_SSL_HEADER is {header!r}, not a (header, value) pair of strings: "
                "Django raises ImproperlyConfigured on the first request that reads it.",
                level="error",
            )
        elif not _META_NAME.match(header[0]):
            yield RULE.issue(
                f"SECURE_PROXY_SSL_HEADER names {header[0]!r}, which is never a key of "
                "request.META: no request is ever seen as HTTPS.",
                level="error",
                hint='use the request.META form: ("HTTP_X_FORWARDED_PROTO", "https")',
            )
    elif ctx.settings.SECURE_SSL_REDIRECT:
        yield RULE.issue(
            "SECURE_SSL_REDIRECT is on but SECURE_PROXY_SSL_HEADER is not set: behind a proxy "
            "that terminates TLS every request looks like HTTP and redirects forever.",
            related=("SECURE_SSL_REDIRECT",),
        )


RULE = SettingsRule(
    code="DJG310",
    setting="SECURE_PROXY_SSL_HEADER",
    level="warning",
    title="SECURE_PROXY_SSL_HEADER malformed or missing with SECURE_SSL_REDIRECT",
    fix='SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") when a proxy '
    "terminates TLS and always sets (overwrites) that header",
    check=check,
)
