"""DJG301: ``SECRET_KEY`` is a literal in the settings source, not read from the environment.

Looks at the bindings of ``SECRET_KEY`` (and ``SECRET_KEY_FALLBACKS``) that can
give the production value: a string literal, or an environment read with a
non-empty literal fallback (``os.environ.get("DJANGO_SECRET_KEY", "dev-key")``).
Keys set in other settings modules (``local``, ``test``) are not looked at.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from pytest_django_gates.deploy.rules._base import Issue, SourceContext, SourceRule
from pytest_django_gates.deploy.settings_source import Binding, env_reads, literal_text


def _problem(value: ast.expr, binding: Binding, ctx: SourceContext) -> str | None:
    if isinstance(value, ast.Name):
        resolved = ctx.settings_source.module_value(binding.module, value.id, binding.line)
        if resolved is not None:
            value = resolved
    text = literal_text(value)
    if text:
        return "is a string literal in the settings source"
    for read in env_reads(value):
        fallback = literal_text(read.default)
        if fallback:
            return f"falls back to a string literal when {read.variable} is not set"
    return None


def check(ctx: SourceContext) -> Iterator[Issue]:
    for name in ("SECRET_KEY", "SECRET_KEY_FALLBACKS"):
        for binding in ctx.settings_source.live(name):
            if binding.value is None or binding.kind not in ("assign", "augassign"):
                continue
            values: list[ast.expr] = [binding.value]
            if name == "SECRET_KEY_FALLBACKS" and isinstance(binding.value, ast.List | ast.Tuple):
                values = list(binding.value.elts)
            for value in values:
                problem = _problem(value, binding, ctx)
                if problem:
                    yield RULE.issue(
                        f"{name} {problem}: anyone who can read the repository can forge "
                        "sessions, password-reset links and signed values.",
                        object=name,
                        path=binding.path,
                        line=binding.line,
                    )
                    break


RULE = SourceRule(
    code="DJG301",
    setting="SECRET_KEY",
    level="error",
    title="SECRET_KEY literal in the settings source",
    fix="read it from the environment with no literal fallback: "
    'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]; then rotate the key, '
    "the committed one is public",
    check=check,
)
