"""pip-audit's vulnerability service: unreachable is one gate error, a private package a finding.

Every test runs ``django-gates run --only pip-audit`` as a real process, which runs
the real pip-audit against a service on 127.0.0.1: the OSV stand-in of
cli_support.py, a port nothing listens on, or the pypi.org stand-in of
pypi_proxy.py (reached through ``HTTPS_PROXY``, as pip-audit's PyPI service has a
fixed address).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli.cli_support import OsvServer, unused_port
from tests.cli.pypi_proxy import FakePyPI, fake_pypi, pypi_certificates
from tests.cli.test_cli_tools import write
from tests.helpers import runs_once
from tests.migrations.migrations_support import clean_env

pytestmark = runs_once()

__all__ = ["fake_pypi", "pypi_certificates"]

ALLOW_PRIVATE = """
[[tool.django-gates.pip-audit.allow_unaudited]]
package = "our-private-lib"
reason = "internal package, audited in its own repository"
"""


def run_pip_audit(root: Path, env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    """Exit code, the pip-audit gate of the JSON report, and stderr."""
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "pytest_django_gates", "--project", str(root)),
            *("run", "--only", "pip-audit", "--format", "json"),
        ],
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.stdout, proc.stderr
    (gate,) = json.loads(proc.stdout)["gates"]
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc.returncode, gate, proc.stderr


def assert_names_the_way_out(summary: str) -> None:
    assert "so nothing was audited" in summary
    assert "django-gates run --skip pip-audit" in summary


def test_pypi_answering_404_for_everything_is_one_error(
    tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    fake_pypi.blocked = True
    write(tmp_path, {"requirements.txt": "Django==4.2.1\nwhitenoise==6.12.0\n"})
    code, gate, _ = run_pip_audit(tmp_path, fake_pypi.env(tmp_path / "cache"))
    assert code == 3
    assert gate["status"] == "error"
    assert gate["findings"] == []
    summary = gate["summary"]
    assert summary.startswith("pip-audit 2.")
    assert "the PyPI vulnerability service (https://pypi.org/pypi/" in summary
    assert "'not found' for every dependency and for pip 24.0 too" in summary
    assert '[tool.django-gates.pip-audit] service = "osv"' in summary
    assert 'osv_url = "https://<your OSV mirror>/v1/query"' in summary
    assert_names_the_way_out(summary)
    # The project's pins, then the one release that is certainly on PyPI.
    assert set(fake_pypi.asked[:2]) == {("django", "4.2.1"), ("whitenoise", "6.12.0")}
    assert fake_pypi.asked[2:] == [("pip", "24.0")]


def test_pypi_behind_a_proxy_that_is_down_is_one_error(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "Django==4.2.1\n"})
    proxy = f"http://127.0.0.1:{unused_port()}"
    code, gate, _ = run_pip_audit(
        tmp_path, {"HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}
    )
    assert code == 3
    assert gate["status"] == "error"
    assert "the PyPI vulnerability service (https://pypi.org/pypi/" in gate["summary"]
    assert (
        "(the proxy (HTTPS_PROXY) cannot be reached, connecting to pypi.org:443)" in gate["summary"]
    )
    assert_names_the_way_out(gate["summary"])


def test_osv_mirror_on_a_closed_port_is_one_error(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "Django==4.2\nwhitenoise==6.12.0\n"})
    port = unused_port()
    url = f"http://127.0.0.1:{port}/v1/query"
    code, gate, _ = run_pip_audit(
        tmp_path,
        {"DJANGO_GATES_PIP_AUDIT_SERVICE": "osv", "DJANGO_GATES_PIP_AUDIT_OSV_URL": url},
    )
    assert code == 3
    assert gate["findings"] == []
    summary = gate["summary"]
    assert f"the OSV vulnerability service ({url}) could not be used" in summary
    assert f"(connection refused, connecting to 127.0.0.1:{port})" in summary
    assert "osv_url pointing at a reachable OSV mirror" in summary
    assert_names_the_way_out(summary)


def test_osv_url_that_is_not_an_osv_api_is_one_error(tmp_path: Path, osv_server: OsvServer) -> None:
    write(tmp_path, {"requirements.txt": "Django==4.2\n"})
    wrong = osv_server.url.replace("/v1/query", "/api/query")
    code, gate, _ = run_pip_audit(
        tmp_path,
        {"DJANGO_GATES_PIP_AUDIT_SERVICE": "osv", "DJANGO_GATES_PIP_AUDIT_OSV_URL": wrong},
    )
    assert code == 3
    assert f"(it answered HTTP 404 Not Found for {wrong})" in gate["summary"]
    assert_names_the_way_out(gate["summary"])


def test_a_package_pypi_does_not_know_is_a_finding_that_can_be_allowed(
    tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    fake_pypi.releases = {("django", "4.2.1")}
    write(tmp_path, {"requirements.txt": "Django==4.2.1\nour-private-lib==1.0\n"})
    env = fake_pypi.env(tmp_path / "cache")
    code, gate, _ = run_pip_audit(tmp_path, env)
    assert code == 1
    assert gate["status"] == "failed"
    (finding,) = gate["findings"]
    assert finding["code"] == "pip-audit:unaudited"
    assert finding["object"] == "our-private-lib"
    assert (finding["path"], finding["line"]) == ("requirements.txt", 2)
    assert "Dependency not found on PyPI" in finding["message"]
    assert "allow_unaudited" in finding["hint"]
    assert "1 of 2 dependencies of requirements.txt audited" in gate["summary"]
    # PyPI answered for Django: no second run to ask whether it answers at all.
    assert ("pip", "24.0") not in fake_pypi.asked
    write(tmp_path, {"pyproject.toml": ALLOW_PRIVATE})
    code, gate, _ = run_pip_audit(tmp_path, env)
    assert (code, gate["status"], gate["findings"]) == (0, "passed", [])


def test_only_private_packages_while_pypi_answers_is_a_finding_not_an_error(
    tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    fake_pypi.releases = {("pip", "24.0")}
    write(tmp_path, {"requirements.txt": "our-private-lib==1.0\n"})
    env = fake_pypi.env(tmp_path / "cache")
    code, gate, _ = run_pip_audit(tmp_path, env)
    assert code == 1
    assert [f["code"] for f in gate["findings"]] == ["pip-audit:unaudited"]
    assert fake_pypi.asked == [("our-private-lib", "1.0"), ("pip", "24.0")]
    write(tmp_path, {"pyproject.toml": ALLOW_PRIVATE})
    code, gate, _ = run_pip_audit(tmp_path, env)
    assert (code, gate["status"]) == (0, "passed")


def test_reachable_osv_audits_unknown_packages_and_reports_unauditable_ones(
    tmp_path: Path, osv_server: OsvServer
) -> None:
    write(
        tmp_path,
        {
            "requirements.txt": "Django==4.2.1\nour-private-lib==1.0\n"
            "mylib @ https://example.invalid/mylib-1.0.tar.gz\n"
        },
    )
    code, gate, _ = run_pip_audit(
        tmp_path,
        {"DJANGO_GATES_PIP_AUDIT_SERVICE": "osv", "DJANGO_GATES_PIP_AUDIT_OSV_URL": osv_server.url},
    )
    assert code == 1
    # OSV has no advisory for our-private-lib: audited, clean. The URL requirement
    # cannot be audited at all: the finding, as before.
    assert [(f["code"], f["object"]) for f in gate["findings"]] == [
        ("pip-audit:unaudited", "mylib")
    ]
    assert "2 of 3 dependencies of requirements.txt audited" in gate["summary"]
