"""The ``django-gates`` parser: one module imported per command, help kept in step."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from pytest_django_gates import cli
from pytest_django_gates.gates import GATE_MODULES
from tests.helpers import python_c


@pytest.mark.parametrize("command", sorted(cli.GATE_COMMANDS))
def test_command_help_is_the_gate_docstring(command: str) -> None:
    module = importlib.import_module(GATE_MODULES[cli.GATE_COMMANDS[command]])
    assert module.__doc__ is not None
    assert cli.COMMAND_HELP[command] == module.__doc__.strip().splitlines()[0]


def test_every_command_has_help() -> None:
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert sorted(subparsers.choices) == sorted(cli.COMMAND_HELP)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["migrations", "--all"], "migrations"),
        (["--project", "migrations", "coverage"], "coverage"),
        (["--project=x", "deploy-check"], "deploy-check"),
        (["--version"], None),
        ([], None),
    ],
)
def test_chosen_command(argv: list[str], expected: str | None) -> None:
    assert cli.chosen_command(argv) == expected


@pytest.mark.parametrize(
    ("command", "shown", "not_loaded"),
    [
        # every migrations run pays the import time of what it loads
        (
            "migrations",
            "--since REF",
            [
                "pytest",
                "pytest_django_gates.gates.coverage",
                "pytest_django_gates.runner",
                "pytest_django_gates.gates.deploy",
            ],
        ),
        ("coverage", "--data", ["pytest", "pytest_django_gates.gates.migrations"]),
    ],
)
def test_a_command_imports_only_its_own_gate(
    command: str, shown: str, not_loaded: list[str]
) -> None:
    code = (
        "import sys\n"
        "from pytest_django_gates.cli import main\n"
        "try:\n"
        f"    main([{command!r}, '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('LOADED', [m for m in {not_loaded!r} if m in sys.modules])\n"
    )
    out = python_c(code)
    assert shown in out
    assert "LOADED []" in out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["nonsense"]) == 2
    assert "invalid choice: 'nonsense'" in capsys.readouterr().err


def test_tool_info_names_the_installed_django_with_or_without_importing_it() -> None:
    from importlib import metadata

    from pytest_django_gates.report import tool_info

    expected = metadata.version("django")
    assert tool_info()["django"] == expected  # Django imported by this test session
    code = (
        "import sys\n"
        "from pytest_django_gates.report import tool_info\n"
        "info = tool_info()\n"
        "print(info['django'], 'django' in sys.modules)\n"
    )
    assert python_c(code).split() == [expected, "False"]


@pytest.mark.parametrize("command", ["report", "run", *cli.GATE_COMMANDS])
def test_project_is_accepted_after_the_command_as_well_as_before(
    command: str, tmp_path: Path
) -> None:
    extra = ["x.json"] if command == "report" else []
    after = cli.build_parser(command).parse_args([command, "--project", str(tmp_path), *extra])
    before = cli.build_parser(command).parse_args(["--project", str(tmp_path), command, *extra])
    neither = cli.build_parser(command).parse_args([command, *extra])
    assert after.project == before.project == tmp_path
    assert neither.project is None
