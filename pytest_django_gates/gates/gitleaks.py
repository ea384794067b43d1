"""gitleaks gate: secrets committed to the repository, found by gitleaks and redacted.

gitleaks is a Go binary with no official Python package: install it yourself (the
GitHub Action downloads the official release and checks its sha256). It is found
like every tool (``[tool.django-gates.gitleaks] command``, next to the running
Python, then ``PATH``); a missing gitleaks is a gate error, never a pass.

What is scanned (``[tool.django-gates.gitleaks] scan``):

- ``git`` (the default inside a git work tree): the commits of the change,
  ``<run.since>..HEAD`` (a pull request's base, a merge group's base), or the
  whole history when no base is given. gitleaks runs at the top of the work tree,
  so its ``.gitleaks.toml`` and ``.gitleaksignore`` are used. Uncommitted changes
  are not commits: use ``scan = "dir"`` (or a pre-commit hook) for them.
- ``dir``: the files under the project root as they are (gitignored files too).

Secrets never reach the report: gitleaks runs with ``--redact`` and the gate does
not copy gitleaks' ``Secret``, ``Match`` or author fields at all. A finding's code
is ``gitleaks:<rule id>`` (``gitleaks:github-pat``), its ``object`` the gitleaks
fingerprint (``commit:file:rule:line``, what ``.gitleaksignore`` takes), with the
file and line.

Adopting on a history that already has findings (API examples in docs, test
fixtures, secrets long rotated): ``django-gates run --only gitleaks
--update-baselines`` (and ``django-gates init --baselines``) appends the
fingerprint of every finding of the scan to ``.gitleaksignore`` beside where
gitleaks runs (the top of the work tree for ``git``, the project for ``dir``),
under a comment that dates it, so later scans report only what is new. It is
gitleaks' own mechanism, reviewable line by line in the pull request that adds
it; a secret that was real must still be rotated.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from pytest_django_gates.gates import GateContext, _tools
from pytest_django_gates.report import Finding, GateResult

NAME = "gitleaks"
# gitleaks exits 1 both for "leaks found" and for its own errors; ask for a
# distinct code for leaks so the two can never be confused.
_LEAKS_EXIT = 99


def run(ctx: GateContext) -> GateResult:
    try:
        tool = _tools.find("gitleaks", NAME, ctx.config, ctx.rootdir, version_flag="version")
        scan = str(ctx.config.get("gitleaks.scan"))
        toplevel = _git_toplevel(ctx.rootdir, ctx)
        if scan == "auto":
            scan = "git" if toplevel is not None else "dir"
        since = str(ctx.config.get("run.since") or "").strip()
        if scan == "git":
            if toplevel is None:
                raise _tools.ToolError(
                    f"{ctx.rootdir} is not inside a git work tree; use "
                    '[tool.django-gates.gitleaks] scan = "dir" to scan the files instead'
                )
            cwd = toplevel
            argv = [*tool.argv, "git"]
            if since:
                _check_ref(since, toplevel, ctx)
                argv += ["--log-opts", f"{since}..HEAD"]
            scope = f"commits {since}..HEAD" if since else "the whole git history"
        else:
            cwd = ctx.rootdir
            argv = [*tool.argv, "dir"]
            scope = "the project files"
        config_path = ctx.config.path("gitleaks.config")
        if config_path is not None:
            if not config_path.is_file():
                raise _tools.ToolError(
                    f"gitleaks config {config_path} does not exist "
                    "([tool.django-gates.gitleaks] config)"
                )
            argv += ["--config", str(config_path)]
        with tempfile.TemporaryDirectory(prefix="django-gates-gitleaks-") as tmp:
            report_path = Path(tmp) / "gitleaks.json"
            argv += [
                "--no-banner",
                "--no-color",
                "--log-level",
                "warn",
                "--redact",
                "--exit-code",
                str(_LEAKS_EXIT),
                "--report-format",
                "json",
                "--report-path",
                str(report_path),
                ".",
            ]
            proc = _tools.run(argv, cwd=cwd, timeout=_tools.timeout(ctx.config))
            if proc.returncode not in (0, _LEAKS_EXIT):
                raise _tools.ToolError(
                    f"{tool.label} failed (exit {proc.returncode}): "
                    f"{_tools.tail(proc.stderr or proc.stdout)}"
                )
            try:
                text = report_path.read_text(encoding="utf-8")
            except OSError:
                raise _tools.ToolError(
                    f"{tool.label} exited {proc.returncode} but wrote no report"
                ) from None
        findings = parse(text, base=cwd, rootdir=ctx.rootdir)
        if proc.returncode == _LEAKS_EXIT and not findings:
            raise _tools.ToolError(f"{tool.label} reported leaks but its report lists none")
        if proc.returncode == 0 and findings:
            raise _tools.ToolError(f"{tool.label} exited 0 but its report lists leaks")
    except _tools.ToolError as exc:
        return _tools.error(NAME, str(exc))
    if ctx.config.get("run.update_baselines"):
        return _accept(findings, cwd, ctx.rootdir, scope)
    return _tools.result(NAME, tool, findings, note=f"scanned {scope}")


def _accept(findings: list[Finding], cwd: Path, rootdir: Path, scope: str) -> GateResult:
    """Append the findings' fingerprints to ``.gitleaksignore`` (see the module docstring)."""
    import datetime as dt

    from pytest_django_gates.report import atomic_write_text

    path = cwd / ".gitleaksignore"
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    known = {line.strip() for line in before.splitlines()}
    new = sorted({f.object for f in findings if f.object and f.object not in known})
    shown = _tools.project_path(str(path), rootdir, base=cwd) or str(path)
    if new:
        lines = [
            f"# {len(new)} finding(s) of {scope} accepted by django-gates on "
            f"{dt.date.today().isoformat()}: rotate any that was a real secret",
            *new,
        ]
        text = before + ("\n" if before and not before.endswith("\n") else "")
        atomic_write_text(path, text + "\n".join(lines) + "\n")
    return GateResult(
        name=NAME,
        status="passed",
        summary=f"{len(new)} fingerprint(s) of {scope} added to {shown} "
        f"({len(findings)} finding(s) in all); commit it",
    )


def parse(text: str, *, base: Path, rootdir: Path) -> list[Finding]:
    """Findings from a gitleaks JSON report; paths in it are relative to ``base``."""
    try:
        data = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise _tools.ToolError(f"gitleaks' report is not JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise _tools.ToolError("gitleaks' report is not a list of leaks")
    return [_finding(item, base, rootdir) for item in data]


def _finding(item: Any, base: Path, rootdir: Path) -> Finding:
    if not isinstance(item, dict) or "RuleID" not in item or "File" not in item:
        # Never echo the item: it may hold the secret.
        raise _tools.ToolError("unexpected item in gitleaks' report (missing RuleID or File)")
    rule = str(item["RuleID"])
    path = _tools.project_path(str(item["File"]), rootdir, base=base)
    line = item.get("StartLine")
    line = line if isinstance(line, int) and not isinstance(line, bool) and line > 0 else None
    commit = str(item.get("Commit") or "")
    description = str(item.get("Description") or f"a secret matching rule {rule}")
    where = f" in commit {commit[:12]}" if commit else ""
    fingerprint = str(item.get("Fingerprint") or f"{path}:{rule}:{line}")
    if commit:
        hint = (
            "Treat the secret as leaked: revoke or rotate it now (it is in the git history "
            "and stays there after a new commit), then remove it from the code and read it "
            "from the environment. If it is not a secret, add "
            f"{fingerprint} to .gitleaksignore."
        )
    else:
        hint = (
            "Remove the secret from the file and read it from the environment; revoke or "
            "rotate it if it was ever shared. If it is not a secret, add "
            f"{fingerprint} to .gitleaksignore."
        )
    return Finding(
        code=f"gitleaks:{rule}",
        severity="error",
        message=f"{description.rstrip('.')} (rule {rule}){where}; the value is redacted.",
        object=fingerprint,
        path=path,
        line=line,
        hint=hint,
    )


def _git_toplevel(rootdir: Path, ctx: GateContext) -> Path | None:
    try:
        proc = _tools.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=rootdir, timeout=_tools.timeout(ctx.config)
        )
    except _tools.ToolError:
        return None
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return Path(proc.stdout.strip())


def _check_ref(ref: str, toplevel: Path, ctx: GateContext) -> None:
    """Make ``ref..HEAD`` mean the change's commits in this clone: the base is fetched
    when the clone lacks it and a shallow clone is deepened to the merge base, as every
    gate finds its base (:mod:`pytest_django_gates.gitbase`); else a gate error."""
    from pytest_django_gates import gitbase
    from pytest_django_gates.config import ConfigError

    if ref.startswith("-"):
        raise _tools.ToolError(f"base ref {ref!r} is not a git ref")
    try:
        gitbase.resolve(toplevel, gitbase.Base(ref, "--since"), "gitleaks")
    except (ConfigError, gitbase.BaseUnreachable) as exc:
        raise _tools.ToolError(
            f"base ref {ref!r}: the commits to scan are unknown: {exc}"
        ) from None
