"""DJG305: ``USE_TZ`` is off: datetimes are stored as naive local time."""

from __future__ import annotations

from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SettingsContext, SettingsRule


def check(ctx: SettingsContext) -> Iterator[Issue]:
    if not ctx.settings.USE_TZ:
        yield RULE.issue(
            "USE_TZ is False: datetimes are stored as naive local time, so daylight-saving "
            "changes and servers in other time zones corrupt ordering and arithmetic."
        )


RULE = SettingsRule(
    code="DJG305",
    setting="USE_TZ",
    level="warning",
    title="USE_TZ off",
    fix="set USE_TZ = True (store UTC; convert to local time in templates and forms)",
    check=check,
)
