"""DJG302: ``ALLOWED_HOSTS`` contains ``'*'``: any ``Host`` header is accepted."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule


def check(ctx: SettingsContext) -> Iterator[Issue]:
    hosts = list(ctx.settings.ALLOWED_HOSTS or [])
    if "*" in hosts:
        yield RULE.issue(
            "ALLOWED_HOSTS contains '*': every Host header is accepted, so an attacker's host "
            "ends up in password-reset links, absolute URLs and cache keys."
        )


RULE = SettingsRule(
    code="DJG302",
    setting="ALLOWED_HOSTS",
    level="error",
    title="ALLOWED_HOSTS contains '*'",
    fix="list the real host names, from the environment: ALLOWED_HOSTS = "
    'os.environ["DJANGO_ALLOWED_HOSTS"].split(",")',
    check=check,
)
