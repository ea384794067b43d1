"""DJG201: a NOT NULL ``AddField`` with a constant Python ``default`` gets the same value
as ``db_default`` (Django 5.0+), on the migration's field and on the model's.

The database then fills the column itself, for the rows that exist and for the
inserts of the previous release's code still running during the deploy; ``default``
stays for Python. Both files are edited so that the model and its migrations agree
(``makemigrations --check`` stays clean, which the proof checks through DJG230).

Not offered: a default that is not a literal (a callable such as ``timezone.now``
needs a database expression chosen by hand), an ``AddField`` with
``preserve_default=False`` (the default was a one-off value for the existing rows, the
model has none), a field the model does not define as ``name = Field(...)`` in its
app's ``models.py`` or ``models/`` package, and Django before 5.0 (no ``db_default``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from pytest_django_gates.fix.plan import Change, Context, NotFixable, Read, Target
from pytest_django_gates.fix.recipes._ops import argument, keyword_value, literal_str, located
from pytest_django_gates.fix.source_edit import EditError, add_keyword, apply, check_parses, span


def _literal(node: ast.expr, text: str) -> str | None:
    """The source of ``node`` when it is a literal constant, else None."""
    try:
        ast.literal_eval(node)
    except ValueError:
        return None
    start, end = span(text, node)
    return text[start:end]


def plan(target: Target, ctx: Context, read: Read) -> Change:
    if ctx.django_version < (5, 0):
        raise NotFixable(
            f"db_default needs Django 5.0 or later (this project runs "
            f"{'.'.join(map(str, ctx.django_version))})"
        )
    source, op = located(target, read)
    if op.kind != "AddField" or op.call is None:
        raise NotFixable(
            f"only AddField is rewritten automatically; this is {op.kind or 'not a call'}"
        )
    call = op.call
    preserve = keyword_value(call, "preserve_default")
    if isinstance(preserve, ast.Constant) and preserve.value is False:
        raise NotFixable(
            "preserve_default=False: the default was a one-off value for the existing rows "
            "and the model has none; choose the column's database default by hand"
        )
    model = literal_str(argument(call, 0, "model_name"))
    name = literal_str(argument(call, 1, "name"))
    field = argument(call, 2, "field")
    if model is None or name is None or not isinstance(field, ast.Call):
        raise NotFixable("the AddField's model, name or field is not written out literally")
    if keyword_value(field, "db_default") is not None:
        raise NotFixable("the field has a db_default already")
    default = keyword_value(field, "default")
    value = _literal(default, source.text) if default is not None else None
    if value is None:
        raise NotFixable(
            "the field's default is not a constant: pick a database expression for "
            "db_default by hand (e.g. Now() for timezone.now)"
        )
    model_path, model_call, model_text = _model_field(target.path.parent.parent, model, name, read)
    model_default = keyword_value(model_call, "default")
    if model_default is None or ast.literal_eval(model_default) != ast.literal_eval(default):  # type: ignore[arg-type]
        raise NotFixable(
            f"the model's field {model}.{name} in {model_path.name} does not have the same "
            "constant default as the migration"
        )
    try:
        migration_text = apply(source.text, [add_keyword(source.text, field, "db_default", value)])
        check_parses(migration_text, target.path.name)
        new_model_text = apply(
            model_text, [add_keyword(model_text, model_call, "db_default", value)]
        )
        check_parses(new_model_text, model_path.name)
    except EditError as exc:
        raise NotFixable(str(exc)) from None
    return Change(
        {target.path: migration_text, model_path: new_model_text},
        summary=f"db_default={value} on the field, in the migration and in {model_path.name}",
        schema_may_differ=frozenset({"default"}),  # the column keeps its database default
    )


def _model_field(app_dir: Path, model: str, name: str, read: Read) -> tuple[Path, ast.Call, str]:
    """The (file, field call, file text) of ``model.name`` in the app's models."""
    candidates = [app_dir / "models.py", *sorted((app_dir / "models").glob("*.py"))]
    found: list[tuple[Path, ast.Call, str]] = []
    for path in candidates:
        if not path.is_file():
            continue
        text = read(path)
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name.lower() == model.lower():
                for stmt in node.body:
                    if (
                        isinstance(stmt, ast.Assign)
                        and len(stmt.targets) == 1
                        and isinstance(stmt.targets[0], ast.Name)
                        and stmt.targets[0].id == name
                        and isinstance(stmt.value, ast.Call)
                    ):
                        found.append((path, stmt.value, text))
    if len(found) != 1:
        where = "no" if not found else f"{len(found)}"
        raise NotFixable(
            f"{where} definition of {model}.{name} as `{name} = Field(...)` in the app's models: "
            "add db_default to the model's field by hand"
        )
    return found[0]
