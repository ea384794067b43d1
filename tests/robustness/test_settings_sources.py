"""Settings sources fed generated hostile input: the deploy gate's locator
(:class:`~pytest_django_gates.deploy.settings_source.SettingsSource`) on a package of
generated settings modules that star-import each other (cycles included), compute settings
in functions or with ``exec``, import modules that do not exist, and are cut short, made
non-UTF-8 or nested past the parser's limits. In-process: it must never raise; what it
cannot read goes to ``.problems``. Plus ``django-gates deploy-check`` as a real process on
a settings module in a star-import cycle."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from pytest_django_gates.deploy.settings_source import MAX_DEPTH, SettingsSource
from tests.robustness.support import EXIT_USAGE, check_contract, in_process, run_cli

MODULES = ["settings", "base", "extra", "local"]

STATEMENTS = [
    "DEBUG = False",
    "SECRET_KEY = os.environ['DJANGO_SECRET_KEY']",
    "ALLOWED_HOSTS = ['example.com']",
    "ALLOWED_HOSTS += ['www.example.com']",
    "DATABASES['default']['NAME'] = 'x'",
    "INSTALLED_APPS = DJANGO_APPS + PROJECT_APPS",
    "def compute():\n    global DEBUG\n    DEBUG = True\n    return 1\nX = compute()",
    "exec('DEBUG = True')",
    "globals()['SECRET_KEY'] = 'x'",
    "if os.environ.get('CI'):\n    DEBUG = True\nelse:\n    DEBUG = False",
    "try:\n    from local_settings import *\nexcept ImportError:\n    pass",
    "from no_such_module import *",
    "from no_such_module import DEBUG",
    "import no_such_module",
    "from . import *",
    "from .......too_far import *",
    "class Settings:\n    DEBUG = True",
    "with open('x') as f:\n    SECRET_KEY = f.read()",
    "match X:\n    case 1:\n        DEBUG = True",
    "A, *B = 1, 2, 3",
]

BREAKAGES = ["as is", "as is", "as is", "syntax", "bytes", "null", "truncate", "bom", "latin-1"]


def star_import(target: str) -> st.SearchStrategy[str]:
    return st.sampled_from([f"from {target} import *", f"from .{target} import *"])


@st.composite
def settings_package(draw: st.DrawFn) -> dict[str, bytes]:
    """``pkg/<module>.py`` files; each star-imports any of the others (so cycles) and
    binds settings in every way the locator reads, and some it cannot."""
    files: dict[str, bytes] = {}
    for module in MODULES:
        lines = ["import os"]
        for _ in range(draw(st.integers(0, 6))):
            if draw(st.integers(0, 3)) == 0:
                target = draw(st.sampled_from(MODULES))
                lines.append(draw(star_import(f"pkg.{target}" if draw(st.booleans()) else target)))
            else:
                lines.append(draw(st.sampled_from(STATEMENTS)))
        data = ("\n".join(lines) + "\n").encode()
        how = draw(st.sampled_from(BREAKAGES))
        at = draw(st.integers(0, len(data)))
        if how == "syntax":
            data = data[:at] + b"\nDEBUG = (\n" + data[at:]
        elif how == "bytes":
            data = data[:at] + b"\xff\xc3(" + data[at:]
        elif how == "null":
            data = data[:at] + b"\x00" + data[at:]
        elif how == "truncate":
            data = data[:at]
        elif how == "bom":
            data = b"\xef\xbb\xbf" + data
        elif how == "latin-1":
            data = b"# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\n" + data
        files[f"pkg/{module}.py"] = data
    files["pkg/__init__.py"] = b""
    return files


def locate(files: dict[str, bytes], module: str = "pkg.settings") -> SettingsSource:
    """Every public method of a loaded source, which must not raise."""
    root = Path(tempfile.mkdtemp())
    try:
        for name, data in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        source = SettingsSource.load(module, [root])
        bindings = source.bindings()
        assert source.modules[:1] in ([], [module])
        assert all(isinstance(p, Path) for p in source.files)
        for name in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "INSTALLED_APPS"):
            source.live(name)
            source.where(name)
        source.where_last(["DEBUG", "SECRET_KEY"])
        for binding in bindings:
            source.expressions(binding)
        for problem in source.problems:
            assert "\n" not in problem.rstrip(), problem
            assert problem.startswith(str(root)), problem  # names the file
        return source
    finally:
        shutil.rmtree(root, ignore_errors=True)


@in_process()
@given(settings_package())
@example(  # a star-import cycle: a imports * from b, b from a
    {
        "pkg/__init__.py": b"",
        "pkg/settings.py": b"from pkg.base import *\nDEBUG = False\n",
        "pkg/base.py": b"from pkg.settings import *\nDEBUG = True\n",
    }
)
def test_settings_source_never_raises(files: dict[str, bytes]) -> None:
    locate(files)


def test_a_star_import_cycle_is_followed_once() -> None:
    source = locate(
        {
            "pkg/__init__.py": b"",
            "pkg/settings.py": b"from .base import *\nDEBUG = False\n",
            "pkg/base.py": b"from .settings import *\nDEBUG = True\nSECRET_KEY = 'x'\n",
        }
    )
    assert [(b.module, b.line) for b in source.bindings("DEBUG")] == [
        ("pkg.base", 2),
        ("pkg.settings", 2),
    ]
    assert source.problems == []


def test_a_coding_line_or_a_bom_is_read_like_python_does() -> None:
    """Regression: a Latin-1 file with a coding line, or a UTF-8 BOM, was 'unreadable'."""
    for head in (b"# -*- coding: latin-1 -*-\n# caf\xe9\n", b"\xef\xbb\xbf"):
        source = locate({"pkg/__init__.py": b"", "pkg/settings.py": head + b"DEBUG = False\n"})
        assert source.problems == []
        assert [b.line for b in source.bindings("DEBUG")] == [head.count(b"\n") + 1]


def test_non_utf8_and_syntax_errors_are_problems_naming_the_file() -> None:
    for data in (b"DEBUG = '\xff'\n", b"DEBUG = (\n", b"DEBUG = 1\x00\n"):
        source = locate({"pkg/__init__.py": b"", "pkg/settings.py": data})
        (problem,) = source.problems
        assert "settings.py: cannot read settings source: " in problem
        assert "fix the file" in problem


def test_an_expression_nested_past_the_parser_is_a_problem() -> None:
    """Regression: ``ast.parse`` raised MemoryError (Python 3.11) out of the locator."""
    source = locate(
        {"pkg/__init__.py": b"", "pkg/settings.py": b"DEBUG = " + b"-" * 100_000 + b"1\n"}
    )
    (problem,) = source.problems
    assert "settings.py: cannot read settings source" in problem


def test_a_star_import_chain_past_the_limit_is_a_problem() -> None:
    """Regression: a chain of 2,000 ``from mN import *`` raised RecursionError."""
    files = {f"m{i}.py": f"from m{i + 1} import *\nX{i} = 1\n".encode() for i in range(2000)}
    files["settings.py"] = b"from m0 import *\nDEBUG = False\n"
    source = locate(files, "settings")
    (problem,) = source.problems
    assert f"star-imported through more than {MAX_DEPTH} settings modules" in problem
    assert source.bindings("DEBUG")


def test_deploy_check_on_a_star_import_cycle(tmp_path: Path) -> None:
    base = "SECRET_KEY = 'k' * 60\nINSTALLED_APPS = []\nALLOWED_HOSTS = ['example.com']\n"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0"\n')
    (tmp_path / "prod.py").write_text("from base import *\nDEBUG = False\n" + base)
    (tmp_path / "base.py").write_text("from prod import *\nDEBUG = True\n")
    out = tmp_path / "out"
    out.mkdir()
    proc = run_cli(
        [
            "--project",
            str(tmp_path),
            "deploy-check",
            "--settings",
            "prod",
            "--report",
            str(out / "report.json"),
        ],
        tmp_path,
    )
    check_contract(proc, "prod")
    assert proc.returncode != EXIT_USAGE, proc.stderr
    assert proc.stdout.startswith("deploy: "), proc.stdout[:500]
    # The located settings: SECRET_KEY is the literal of prod.py, line 3.
    assert "DJG301 [error] SECRET_KEY (prod.py:3)" in proc.stdout
    assert [p.name for p in out.iterdir()] == ["report.json"]
