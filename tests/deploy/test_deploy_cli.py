"""``django-gates deploy-check``: exit codes 0/1/2/3, formats, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_django_gates.cli import main
from pytest_django_gates.report import Report
from tests.deploy.deploy_support import SETTINGSRULES, deploy_environ, scrub_environment

_SCRIPT = Path(sys.executable).with_name("django-gates")
# The console script when the package is installed, else the same entry point.
DJANGO_GATES = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from pytest_django_gates.cli import entry_point; entry_point()"]
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    scrub_environment(monkeypatch)


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--project", str(SETTINGSRULES), "deploy-check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_settings_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "--settings", "prodsettings.clean")
    assert code == 0
    assert out.startswith("deploy: PASSED - prodsettings.clean: no findings;")
    assert "DJANGO_SECRET_KEY=<throwaway SECRET_KEY>" in out


def test_a_finding_exits_1_with_location_and_fix(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "--settings", "prodsettings.djg302_allowed_hosts_star")
    assert code == 1
    assert "deploy: FAILED" in out
    assert "DJG302 [error] ALLOWED_HOSTS (prodsettings/djg302_allowed_hosts_star.py:5)" in out
    assert "fix: list the real host names" in out


def test_fail_level_error_lets_warnings_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(
        capsys, "--settings", "prodsettings.djg313_locmem_cache", "--fail-level", "error"
    )
    assert code == 0
    assert "DJG313 [warning] CACHES" in out


def test_a_settings_module_that_does_not_import_exits_2_with_the_import_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _cli(capsys, "--settings", "prodsettings.broken_import")
    assert code == 2
    assert out == ""
    assert "deploy_settings 'prodsettings.broken_import' does not import" in err
    assert "prodsettings/broken_import.py:4" in err
    assert "ModuleNotFoundError: No module named 'prodsettings.no_such_module'" in err


def test_a_missing_environment_variable_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "--settings", "prodsettings.broken_needs_env")
    assert code == 2
    assert (
        "prodsettings/broken_needs_env.py:7: KeyError: 'GATES_TEST_UNSET_DATABASE_PASSWORD'" in err
    )
    assert "the environment variable GATES_TEST_UNSET_DATABASE_PASSWORD is not set" in err


def test_django_setup_failing_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "--settings", "prodsettings.broken_setup")
    assert code == 2
    assert "imports, but django.setup() fails" in err
    assert "No module named 'no_such_app_anywhere'" in err


def test_an_unknown_module_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "--settings", "prodsettings.nope")
    assert code == 2
    assert "No module named 'prodsettings.nope'" in err


def test_a_crashing_check_exits_3_and_never_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "--settings", "prodsettings.broken_urlconf")
    assert code == 3
    assert out.startswith("deploy: ERROR - prodsettings.broken_urlconf: 1 error;")
    assert "; could not look: DJG308, DJG323 and Django's checks urls." in out
    assert "(DJG393): the gate cannot pass" in out
    assert "DJG393 [error] ROOT_URLCONF (urls_broken.py:1)" in out
    assert "raised RuntimeError: this URLconf is broken on purpose" in out


def test_a_probe_that_hangs_is_stopped_and_exits_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_GATES_DEPLOY_TIMEOUT", "1")
    code, out, _ = _cli(capsys, "--settings", "prodsettings.slow_import")
    assert code == 3
    assert "did not finish within 1s (deploy.timeout)" in out


def test_a_probe_that_dies_without_a_result_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "--settings", "prodsettings.broken_exit")
    assert code == 3
    assert "exited with code 7 without a result" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "--fail-level", "info")
    assert code == 2
    assert "invalid choice: 'info'" in err


def test_json_format_report_and_output_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = _cli(
        capsys,
        "--settings",
        "prodsettings.djg315_debug_true",
        "--format",
        "json",
        "--report",
        str(tmp_path / "report.json"),
    )
    assert code == 1
    report = Report.from_dict(json.loads(out), "stdout")
    (gate,) = report.gates
    assert (gate.name, gate.status) == ("deploy", "failed")
    assert sorted((f.code, f.object, f.path, f.line) for f in gate.findings) == [
        ("security.W018", "DEBUG", "prodsettings/djg315_debug_true.py", 5),  # DJG315 merged
    ]
    assert Report.load(tmp_path / "report.json").to_dict()["gates"] == report.to_dict()["gates"]
    code, out, _ = _cli(
        capsys,
        "--settings",
        "prodsettings.clean",
        "--format",
        "json",
        "-o",
        str(tmp_path / "o.json"),
    )
    assert (code, out) == (0, "")
    assert json.loads((tmp_path / "o.json").read_text())["gates"][0]["status"] == "passed"


@pytest.mark.parametrize("fmt", ["github", "sarif", "markdown"])
def test_annotation_formats_carry_the_settings_line(
    capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    code, out, _ = _cli(capsys, "--settings", "prodsettings.djg305_use_tz_off", "--format", fmt)
    assert code == 1
    assert "djg305_use_tz_off.py" in out
    assert "DJG305" in out
    if fmt == "github":
        assert "line=5" in out


def test_the_installed_console_script_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *DJANGO_GATES,
            "--project",
            str(SETTINGSRULES),
            "deploy-check",
            "--settings",
            "prodsettings.djg306_postgres_no_persistent",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=deploy_environ({"PYTHONDONTWRITEBYTECODE": "1"}),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    (finding,) = json.loads(done.stdout)["gates"][0]["findings"]
    assert (finding["code"], finding["object"], finding["line"]) == ("DJG306", "DATABASES", 5)
