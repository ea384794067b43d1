"""DJG317: an e-mail backend that never delivers (console, file, locmem, dummy)."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule

_UNDELIVERED = {
    "django.core.mail.backends.console.EmailBackend": "prints mail to stdout",
    "django.core.mail.backends.filebased.EmailBackend": "writes mail to files",
    "django.core.mail.backends.locmem.EmailBackend": "keeps mail in memory",
    "django.core.mail.backends.dummy.EmailBackend": "discards mail",
}


def check(ctx: SettingsContext) -> Iterator[Issue]:
    backend = str(ctx.settings.EMAIL_BACKEND)
    if backend in _UNDELIVERED:
        yield RULE.issue(
            f"EMAIL_BACKEND is {backend}, which {_UNDELIVERED[backend]}: password resets and "
            "error mails are never delivered."
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
