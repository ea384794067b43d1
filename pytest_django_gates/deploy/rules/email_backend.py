"""DJG317: an e-mail backend that never delivers (console, file, locmem, dummy).

Django 6.1 replaces ``EMAIL_BACKEND`` (and the other ``EMAIL_*`` connection
settings, deprecated until Django 2028) with ``MAILERS``; with ``MAILERS``
defined, reading ``EMAIL_BACKEND`` raises ``AttributeError``. So the rule
reads the settings the way the running Django allows: on a project that
defines ``MAILERS`` it leaves the judgement to Django 6.1's own checks, which
cover the same ground (``mail.E001``: ``MAILERS["default"]`` uses a console,
file, locmem or dummy backend; ``mail.W001``: no ``default`` mailer), located
at the ``MAILERS`` line like every Django check; a second finding for the same
problem would only be noise. Without ``MAILERS`` it judges ``EMAIL_BACKEND``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule

_UNDELIVERED = {
    "django.core.mail.backends.console.EmailBackend": "prints mail to stdout",
    "django.core.mail.backends.filebased.EmailBackend": "writes mail to files",
    "django.core.mail.backends.locmem.EmailBackend": "keeps mail in memory",
    "django.core.mail.backends.dummy.EmailBackend": "discards mail",
}


def _defines_mailers(settings: Any) -> bool:
    """The project defines ``MAILERS`` (Django 6.1+; absent from the global defaults)."""
    return hasattr(getattr(settings, "_wrapped", settings), "MAILERS")


def check(ctx: SettingsContext) -> Iterator[Issue]:
    if _defines_mailers(ctx.settings):
        return  # Django 6.1+: its own mail.E001 / mail.W001 judge MAILERS
    backend = str(ctx.settings.EMAIL_BACKEND)
    if backend in _UNDELIVERED:
        yield RULE.issue(
            f"EMAIL_BACKEND is {backend}, which {_UNDELIVERED[backend]}: password resets "
            "and error mails are never delivered."
        )


RULE = SettingsRule(
    code="DJG317",
    setting="EMAIL_BACKEND",
    level="warning",
    title="e-mail backend that never delivers",
    fix="use django.core.mail.backends.smtp.EmailBackend (the default) or a provider's "
    "backend, configured from the environment",
    check=check,
)
