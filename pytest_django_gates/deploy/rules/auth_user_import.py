"""DJG304: project code imports ``django.contrib.auth.models.User`` directly.

Scans the project's own source (every file, migrations included; see
:mod:`pytest_django_gates.deploy.sources` for the scope) for
``from django.contrib.auth.models import User`` and the dotted
``django.contrib.auth.models.User``. With a custom user model that is the wrong
model; without one, every such import is a place to change later.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SourceContext, SourceRule
from pytest_django_gates.deploy.settings_source import dotted
from pytest_django_gates.deploy.sources import qualname_at

_MODULE = "django.contrib.auth.models"


def check(ctx: SourceContext) -> Iterator[Issue]:
    for source in ctx.sources.files():
        for node in ast.walk(source.tree):
            line: int | None = None
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == _MODULE
                and node.level == 0
                and any(alias.name == "User" for alias in node.names)
            ) or (
                isinstance(node, ast.Attribute)
                and node.attr == "User"
                and dotted(node) == f"{_MODULE}.User"
            ):
                line = getattr(node, "lineno", None)
            if line is None:
                continue
            where = qualname_at(source.tree, line)
            yield RULE.issue(
                f"{_MODULE}.User is used directly in {source.module}: code that names "
                "the built-in User breaks (or pins you) when AUTH_USER_MODEL is a custom model.",
                object=f"{source.module}.{where}" if where else source.module,
                path=source.path,
                line=line,
            )


RULE = SourceRule(
    code="DJG304",
    setting="AUTH_USER_MODEL",
    level="warning",
    title="code imports django.contrib.auth.models.User directly",
    fix="use django.contrib.auth.get_user_model() in code and settings.AUTH_USER_MODEL "
    "in model relations",
    check=check,
)
