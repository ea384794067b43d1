"""Migration sources fed generated hostile input: ``django-gates migrations --all`` on a
small real Django project (``tests/migrations/migrations_support.py``) whose second and
third migrations are generated: operations in a list, built in a loop or with ``exec``;
then broken (a syntax error, non-UTF-8 bytes, a null byte, cut short, no ``Migration``
class, junk ``operations``/``dependencies``) or tied in a dependency cycle, or depending on
a migration that does not exist. Each example is a real process."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from tests.migrations.migrations_support import make_project, simple_app
from tests.robustness.support import EXIT_ERROR, check_contract, no_leftovers, run_cli

HEAD = "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"

OPERATION = {
    "runsql": "migrations.RunSQL('SELECT 1', 'SELECT 1')",
    "addfield": "migrations.AddField('item', 'flag', models.BooleanField(default=False))",
    "nullable": "migrations.AddField('item', 'note', models.TextField(null=True))",
    "index": "migrations.AddIndex('item', models.Index(fields=['name'], name='item_name_idx'))",
}

# How ``operations`` is written: the gate must read every one of them the same way.
STYLES = {
    "list": "    operations = [{op}]\n",
    "loop": "    operations = [{op} for _ in range(1)]\n",
    "append": "    operations = []\n    for _ in range(1):\n        operations.append({op})\n",
    "exec": '    operations = []\n    exec("operations.append({op})")\n',
    "module exec": "",  # the whole class is made by exec (below)
}

MUTATIONS = [
    "as is",
    "as is",
    "syntax",
    "bytes",
    "null",
    "truncate",
    "bom",
    "latin-1",
    "no class",
    "junk operations",
    "junk dependencies",
    "empty",
]


def migration_source(style: str, op: str, depends: str) -> str:
    deps = f"    dependencies = [('shop', {depends!r})]\n"
    if style == "module exec":
        body = HEAD + deps + f"    operations = [{op}]\n"
        return "from django.db import migrations, models\n\nexec(" + repr(body) + ")\n"
    return HEAD + deps + STYLES[style].format(op=op)


def mutate(text: str, how: str, at: int) -> bytes:
    data = text.encode()
    at = at % (len(data) + 1)
    if how == "syntax":
        return data[:at] + b"class (:\n" + data[at:]
    if how == "bytes":
        return data[:at] + b"\xff\xfe\xc3" + data[at:]
    if how == "null":
        return data[:at] + b"\x00" + data[at:]
    if how == "truncate":
        return data[:at]
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "latin-1":  # valid Python: a coding line and a Latin-1 comment
        return b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + data
    if how == "no class":
        return b"from django.db import migrations\n\nMIGRATION = None\n"
    if how == "junk operations":
        return data + b"    operations = [1, None, 'x']\n" if b"class Migration" in data else data
    if how == "junk dependencies":
        return data.replace(b"dependencies = [", b"dependencies = [1, ", 1)
    if how == "empty":
        return b""
    return data


migrations_pair = st.fixed_dictionaries(
    {
        "style2": st.sampled_from(sorted(STYLES)),
        "op2": st.sampled_from(sorted(OPERATION)),
        "how2": st.sampled_from(MUTATIONS),
        "at2": st.integers(0, 10_000),
        "third": st.booleans(),
        "style3": st.sampled_from(sorted(STYLES)),
        "op3": st.sampled_from(sorted(OPERATION)),
        "how3": st.sampled_from(MUTATIONS),
        "at3": st.integers(0, 10_000),
        # 0002's parent: the right one, a missing one, or 0003 (a cycle with 0003 -> 0002)
        "parent2": st.sampled_from(["0001_initial", "0001_initial", "0009_missing", "0003_c"]),
    }
)


def check_migrations(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(Path(tmp) / "p", {"shop": simple_app()})
        for name, data in files.items():
            (root / "shop" / "migrations" / f"{name}.py").write_bytes(data)
        out = Path(tmp) / "out"
        out.mkdir()
        report = out / "report.json"
        proc = run_cli(
            [
                "--project",
                str(root),
                "migrations",
                "--settings",
                "proj_settings",
                "--all",
                "--format",
                "json",
                "--report",
                str(report),
            ],
            root,
        )
        check_contract(proc, "migrations", "proj_settings")
        no_leftovers(out)
        assert proc.returncode != 2, proc.stderr[-2000:]  # the settings are fine
        (gate,) = json.loads(proc.stdout)["gates"]
        assert json.loads(report.read_text(encoding="utf-8")) == json.loads(proc.stdout)
        if proc.returncode == EXIT_ERROR:
            summary = gate["summary"]
            # One sentence naming the migration file (or the cycle's files).
            assert "shop/migrations/000" in summary, summary
            assert "Traceback" not in summary, summary
            assert "\n" not in summary, summary
            assert "pytest_django_gates" not in summary, summary  # not our own file


@given(migrations_pair)
@example(  # regression: a null byte was blamed on pytest_django_gates/migrations/analysis.py
    {
        "style2": "list",
        "op2": "runsql",
        "how2": "null",
        "at2": 5,
        "third": False,
        "style3": "list",
        "op3": "runsql",
        "how3": "as is",
        "at3": 0,
        "parent2": "0001_initial",
    }
)
@example(  # regression: no file named for a migration without a Migration class
    {
        "style2": "list",
        "op2": "runsql",
        "how2": "no class",
        "at2": 0,
        "third": False,
        "style3": "list",
        "op3": "runsql",
        "how3": "as is",
        "at3": 0,
        "parent2": "0001_initial",
    }
)
@example(  # regression: `operations = None`, `dependencies = [1]` named no migration file
    {
        "style2": "exec",
        "op2": "addfield",
        "how2": "junk dependencies",
        "at2": 0,
        "third": True,
        "style3": "list",
        "op3": "runsql",
        "how3": "as is",
        "at3": 0,
        "parent2": "0003_c",
    }
)
def test_generated_migrations_never_crash_the_gate(case: dict[str, object]) -> None:
    files: dict[str, bytes] = {}
    parent2 = str(case["parent2"])
    if parent2 == "0003_c" and not case["third"]:
        parent2 = "0001_initial"
    second = migration_source(str(case["style2"]), OPERATION[str(case["op2"])], parent2)
    files["0002_b"] = mutate(second, str(case["how2"]), int(str(case["at2"])))
    if case["third"]:
        third = migration_source(str(case["style3"]), OPERATION[str(case["op3"])], "0002_b")
        files["0003_c"] = mutate(third, str(case["how3"]), int(str(case["at3"])))
    check_migrations(files)


def test_operations_as_none_names_the_migration_file() -> None:
    """Regression: Django's ``list(self.operations)`` failing was blamed on
    ``pytest_django_gates/migrations/analysis.py``."""
    text = HEAD + "    dependencies = [('shop', '0001_initial')]\n    operations = None\n"
    check_migrations({"0002_b": text.encode()})


def test_a_migration_with_10000_operations_is_checked() -> None:
    ops = "".join(f"        migrations.RunSQL('SELECT {i}', 'SELECT 1'),\n" for i in range(10_000))
    text = HEAD + "    dependencies = [('shop', '0001_initial')]\n    operations = [\n" + ops
    text += "        migrations.AddField('item', 'flag', models.BooleanField(default=False)),\n"
    text += "    ]\n"
    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(Path(tmp) / "p", {"shop": simple_app()})
        (root / "shop" / "migrations" / "0002_big.py").write_text(text, encoding="utf-8")
        proc = run_cli(
            ["--project", str(root), "migrations", "--settings", "proj_settings", "--all"],
            root,
        )
    check_contract(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # The finding points at the AddField, the 10,001st operation.
    assert "DJG201 [error] shop.0002_big (shop/migrations/0002_big.py:10007)" in proc.stdout
