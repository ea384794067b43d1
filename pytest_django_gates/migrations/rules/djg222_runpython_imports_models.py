"""DJG222: RunPython code that uses the current models instead of the historical ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pytest_django_gates.migrations.base import Hit, OpContext, Rule
from pytest_django_gates.migrations.source import models_used_by


def check(ctx: OpContext) -> Iterator[Hit]:
    for attribute in ("code", "reverse_code"):
        func = getattr(ctx.operation, attribute, None)
        if func is None:
            continue
        uses = models_used_by(func, ctx.env.models_modules)
        if not uses:
            continue
        name = getattr(func, "__name__", attribute)
        code = getattr(getattr(func, "func", func), "__code__", None)
        where = Path(code.co_filename).name if code else "?"
        found = "; ".join(f"{use.what} at {where}:{use.line}" for use in uses[:3])
        yield Hit(
            f"RunPython {attribute} {name}() uses the current models ({found}) instead of "
            "apps.get_model(): it breaks as soon as a later migration changes those models"
        )


RULE = Rule(
    on_squashed=True,
    code="DJG222",
    name="runpython-imports-models",
    severity="error",
    title="RunPython code that imports models gets today's models, not the historical ones.",
    hint=(
        "Use the apps argument: def forwards(apps, schema_editor): Order = "
        "apps.get_model('shop', 'Order'); for the user model, "
        "apps.get_model(settings.AUTH_USER_MODEL)."
    ),
    operations=frozenset({"RunPython"}),
    check_operation=check,
)
