"""DJG315: ``DEBUG`` can be true in the production settings module.

Every binding of ``DEBUG`` that can give the production value must be the
literal ``False`` (or ``DEBUG`` must never be set: the default is ``False``).
``DEBUG = True``, ``DEBUG = os.environ.get("DJANGO_DEBUG") == "1"`` or
``DEBUG = env.bool("DEBUG", default=False)`` are reported: one wrong variable
turns on debug pages that show settings, SQL and source to anyone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SourceContext, SourceRule
from pytest_django_gates.deploy.settings_source import env_reads


def check(ctx: SourceContext) -> Iterator[Issue]:
    for binding in ctx.settings_source.live("DEBUG"):
        value = binding.value
        if binding.kind == "import":
            continue  # imported from a module outside the project: nothing to read
        if isinstance(value, ast.Constant) and value.value is False and binding.kind == "assign":
            continue
        if isinstance(value, ast.Constant) and value.value is True and binding.kind == "assign":
            why = "DEBUG = True in the production settings"
        else:
            variables = sorted({r.variable for r in env_reads(value)}) if value else []
            if variables:
                why = (
                    f"DEBUG is read from the environment ({', '.join(variables)}), "
                    "so one wrong variable turns it on"
                )
            else:
                why = "DEBUG is computed, not the literal False, so it can be true"
        if binding.conditional:
            why += " (in a conditional block)"
        yield RULE.issue(
            why + ": debug pages show settings, SQL and source code to anyone.",
            path=binding.path,
            line=binding.line,
        )


RULE = SourceRule(
    code="DJG315",
    setting="DEBUG",
    level="error",
    title="DEBUG can be true in the production module",
    fix="write DEBUG = False in the production settings; keep DEBUG = True in local settings only",
    check=check,
)
