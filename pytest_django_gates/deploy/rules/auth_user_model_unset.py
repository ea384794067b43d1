"""DJG303: no custom user model (``AUTH_USER_MODEL`` is still ``auth.User``)."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule


def check(ctx: SettingsContext) -> Iterator[Issue]:
    from django.apps import apps

    if not apps.is_installed("django.contrib.auth"):
        return
    if ctx.settings.AUTH_USER_MODEL == "auth.User":
        yield RULE.issue(
            "AUTH_USER_MODEL is auth.User: the project has no custom user model, and "
            "switching once tables hold data means rewriting migrations by hand."
        )


RULE = SettingsRule(
    code="DJG303",
    setting="AUTH_USER_MODEL",
    level="warning",
    title="no custom user model (AUTH_USER_MODEL unset)",
    fix="create a user model subclassing AbstractUser in an app and set "
    'AUTH_USER_MODEL = "accounts.User" (ideally before the first migration)',
    check=check,
)
