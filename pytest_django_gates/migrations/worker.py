"""The analysis subprocess, for a process whose Django is set up with other settings.

Django can be set up once per process. ``django-gates migrations`` sets it up
in-process (the fast path), but a host that runs several gates and already set
Django up with different settings (production settings for the deploy gate,
say) gets the analysis in a clean interpreter instead.

Protocol: ``python -m pytest_django_gates.migrations.worker REQUEST OUTPUT``;
REQUEST is a JSON file ``{"settings": ..., "paths": [...], "request": {...}}``,
OUTPUT receives ``{"result": GateResult}`` or ``{"config_error": msg}`` or
``{"error": msg}``. The worker's stdout is left to the project (settings that
print); nothing is parsed from it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_django_gates.config import ConfigError
from pytest_django_gates.migrations.project import setup_django
from pytest_django_gates.report import GateResult, ReportError, atomic_write_text

GATE = "migrations"
TIMEOUT = 1800.0


def project_env(settings: str, paths: Sequence[str]) -> dict[str, str]:
    """This process's environment for a child that sets the project's Django up."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = settings
    env["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_in_subprocess(
    request_data: dict[str, Any], settings: str, paths: Sequence[str], cwd: Path
) -> GateResult:
    """Run the analysis in a fresh interpreter; ConfigError and failures come back as such."""
    with tempfile.TemporaryDirectory(prefix="djg-migrations-") as tmp:
        request_file = Path(tmp) / "request.json"
        output_file = Path(tmp) / "result.json"
        request_file.write_text(
            json.dumps({"settings": settings, "paths": list(paths), "request": request_data}),
            encoding="utf-8",
        )
        env = project_env(settings, paths)
        try:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest_django_gates.migrations.worker",
                    str(request_file),
                    str(output_file),
                ],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return GateResult(
                GATE, "error", f"gate could not run: the analysis took more than {TIMEOUT:.0f} s"
            )
        if not output_file.is_file():
            tail = "\n".join((proc.stderr or "").strip().splitlines()[-15:])
            return GateResult(
                GATE,
                "error",
                f"gate could not run: the analysis process exited with {proc.returncode} "
                f"without a result:\n{tail}",
            )
        data = json.loads(output_file.read_text(encoding="utf-8"))
    if "config_error" in data:
        raise ConfigError(str(data["config_error"]))
    if "error" in data:
        return GateResult(GATE, "error", f"gate could not run: {data['error']}")
    try:
        return GateResult.from_dict(data["result"], "migrations analysis")
    except (KeyError, ReportError) as exc:
        return GateResult(GATE, "error", f"gate could not run: malformed analysis result: {exc}")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print(
            "usage: python -m pytest_django_gates.migrations.worker REQUEST OUTPUT", file=sys.stderr
        )
        return 2
    request_file, output_file = Path(args[0]), Path(args[1])
    payload = json.loads(request_file.read_text(encoding="utf-8"))
    out: dict[str, Any]
    try:
        setup_django(payload["settings"], payload["paths"])
        from pytest_django_gates.migrations.analysis import AnalysisError, analyze
        from pytest_django_gates.migrations.request import Request

        try:
            out = {"result": analyze(Request.from_json(payload["request"])).to_dict()}
        except AnalysisError as exc:
            out = {"error": str(exc)}
    except ConfigError as exc:
        out = {"config_error": str(exc)}
    except Exception as exc:
        traceback.print_exc()
        out = {"error": f"{type(exc).__name__}: {exc}"}
    atomic_write_text(output_file, json.dumps(out))
    return 0


if __name__ == "__main__":  # pragma: no cover - subprocess entry point
    raise SystemExit(main())
