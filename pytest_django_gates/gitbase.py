"""The base of a change in git: which commit, its merge base with HEAD, the lines changed.

Shared by every gate that compares with a base (patch coverage, the ruff and mypy
hold-the-line, the deploy gate's allows, the migration gate's ``--since``, gitleaks).

The base is the first of: ``--since REF`` (or a gate's own ``since`` option); in a
GitHub merge queue run the merge group's base commit (``merge_group.base_sha`` of
the event file at ``GITHUB_EVENT_PATH``); in a pull request run ``origin/`` +
``GITHUB_BASE_REF``.

What CI clones look like: ``actions/checkout`` clones with depth 1 unless told
otherwise, so the base branch may be absent and the history too short to reach the
merge base. A base that is not in the repository is fetched once from its remote;
if it still does not exist that is a :class:`ConfigError` (exit 2). In a shallow
clone the history is deepened (``git fetch --deepen`` by 50, then 500 commits, then
``--unshallow``) until the merge base is found; if it still cannot be reached it is
:class:`BaseUnreachable`, whose message names ``fetch-depth: 0``: a gate never
judges against the wrong base, and never passes for want of one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_django_gates.config import ConfigError

GIT_TIMEOUT = 300
DEEPEN_STEPS = (50, 500)
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")


class BaseUnreachable(Exception):
    """The base exists but no merge base with HEAD can be found (shallow history)."""


@dataclass(frozen=True)
class Base:
    ref: str
    source: str


@dataclass
class Diff:
    base: Base
    merge_base: str
    changed: dict[str, set[int]]
    notes: list[str] = field(default_factory=list)


def since_source(source: str) -> str:
    """How an error names where ``--since``'s value came from: ``--since`` for the command
    line (and the default), else the configuration's own source (``environment
    (DJANGO_GATES_RUN_SINCE)``, ``pyproject.toml ...``), so it points at what to change."""
    return "--since" if source.startswith("command line") or source == "default" else source


def find_base(since: str | None, since_source: str, environ: Mapping[str, str]) -> Base | None:
    if since:
        return Base(since, since_source)
    event_path = environ.get("GITHUB_EVENT_PATH")
    if environ.get("GITHUB_EVENT_NAME") == "merge_group" and event_path:
        try:
            event = json.loads(Path(event_path).read_text(encoding="utf-8"))
            sha = event["merge_group"]["base_sha"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"GITHUB_EVENT_PATH {event_path}: cannot read merge_group.base_sha of the "
                f"merge group event ({exc}); pass --since REF"
            ) from exc
        if not isinstance(sha, str) or not _SHA.match(sha):
            raise ConfigError(
                f"GITHUB_EVENT_PATH {event_path}: merge_group.base_sha is {sha!r}, not a commit"
            )
        return Base(sha, "merge group base (GITHUB_EVENT_PATH merge_group.base_sha)")
    base_ref = environ.get("GITHUB_BASE_REF", "").strip()
    if base_ref:
        return Base(f"origin/{base_ref}", "pull request base (GITHUB_BASE_REF)")
    return None


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ConfigError(
            "git is not installed, and comparing with the change's base needs it"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise BaseUnreachable(
            f"git {' '.join(args)} took more than {GIT_TIMEOUT}s (network?)"
        ) from exc


def _out(args: Sequence[str], cwd: Path) -> str | None:
    proc = _git(args, cwd)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _resolve(ref: str, top: Path) -> str | None:
    return _out(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], top)


def _fetch_spec(ref: str, remotes: list[str]) -> tuple[str, str] | None:
    """``(remote, refspec)`` that would bring ``ref`` into the repository, if any."""
    head, _, rest = ref.partition("/")
    if rest and head in remotes:
        return head, f"+refs/heads/{rest}:refs/remotes/{head}/{rest}"
    if not remotes:
        return None
    remote = "origin" if "origin" in remotes else remotes[0]
    if _SHA.match(ref):
        return remote, ref
    return remote, f"+refs/heads/{ref}:refs/remotes/{remote}/{ref}"


@dataclass(frozen=True)
class Resolved:
    """A base found in the repository: the work tree's top, the merge base with HEAD,
    and what was fetched to find it (for the summary)."""

    top: Path
    merge_base: str
    notes: tuple[str, ...] = ()


def resolve(rootdir: Path, base: Base, what: str) -> Resolved:
    """The merge base of ``base`` and HEAD, fetching the base and deepening a shallow
    clone when needed (see the module docstring). ``what`` names the check that needs
    it, in the errors: :class:`ConfigError` or :class:`BaseUnreachable`."""
    top_text = _out(["rev-parse", "--show-toplevel"], rootdir)
    if not top_text:
        raise ConfigError(
            f"{what} ({base.source}: {base.ref}) needs a git repository, and "
            f"{rootdir} is not inside one"
        )
    top = Path(top_text)
    if _out(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], top) is None:
        raise ConfigError(f"{what} ({base.source}: {base.ref}): {top} has no commit at HEAD yet")
    notes: list[str] = []
    remotes = (_out(["remote"], top) or "").split()
    spec = _fetch_spec(base.ref, remotes)
    base_sha = _resolve(base.ref, top)
    if base_sha is None and spec is not None:
        fetched = _git(["fetch", "--no-tags", "--quiet", spec[0], spec[1]], top)
        if fetched.returncode == 0:
            notes.append(f"fetched {base.ref} from {spec[0]}")
            destination = spec[1].partition(":")[2]
            base_sha = _resolve(base.ref, top) or (
                _resolve(destination, top) if destination else _resolve("FETCH_HEAD", top)
            )
    if base_sha is None:
        raise ConfigError(
            f"the base {base.ref!r} ({base.source}) does not exist in the git repository "
            f"at {top}" + (f" nor on remote {spec[0]!r}" if spec else "") + "; pass an existing "
            "branch, tag or commit to --since (e.g. origin/main), and fetch it first "
            "(actions/checkout: fetch-depth: 0)"
        )
    merge_base = _merge_base(base_sha, base, top, spec, notes)
    return Resolved(top=top, merge_base=merge_base, notes=tuple(notes))


def changed_lines(rootdir: Path, base: Base, what: str = "patch coverage") -> Diff:
    """The changed lines (absolute real path -> line numbers) since the merge base.

    ``what`` names the check that needs them, in the errors.
    """
    found = resolve(rootdir, base, what)
    return Diff(
        base=base,
        merge_base=found.merge_base,
        changed=_diff(found.top, found.merge_base),
        notes=list(found.notes),
    )


def _merge_base(
    base_sha: str, base: Base, top: Path, spec: tuple[str, str] | None, notes: list[str]
) -> str:
    found = _out(["merge-base", base_sha, "HEAD"], top)
    if found:
        return found
    shallow = _out(["rev-parse", "--is-shallow-repository"], top) == "true"
    if not shallow:
        raise ConfigError(
            f"the base {base.ref!r} ({base.source}) has no common history with HEAD; "
            "pass the branch this work started from to --since"
        )
    remote = spec[0] if spec else None
    if remote is None:
        raise BaseUnreachable(
            f"this is a shallow clone without a remote, so the merge base of {base.ref!r} and "
            "HEAD cannot be fetched; clone with full history (actions/checkout: fetch-depth: 0)"
        )
    head = _out(["rev-parse", "HEAD"], top) or "HEAD"
    wanted = [head] + ([spec[1]] if spec and not _SHA.match(spec[1]) else [])
    for depth in DEEPEN_STEPS:
        proc = _git(["fetch", "--no-tags", "--quiet", f"--deepen={depth}", remote, *wanted], top)
        if proc.returncode != 0:  # a server that refuses a commit id: deepen the refs
            _git(["fetch", "--no-tags", "--quiet", f"--deepen={depth}", remote], top)
        found = _out(["merge-base", base_sha, "HEAD"], top)
        if found:
            notes.append(f"deepened the shallow clone by {depth} commits")
            return found
    proc = _git(["fetch", "--no-tags", "--quiet", "--unshallow", remote], top)
    found = _out(["merge-base", base_sha, "HEAD"], top)
    if found:
        notes.append("unshallowed the clone")
        return found
    detail = proc.stderr.strip().splitlines()[-1:] if proc.returncode else []
    raise BaseUnreachable(
        f"the merge base of {base.ref!r} ({base.source}) and HEAD is not in this shallow clone, "
        f"and deepening it from {remote!r} did not reach it"
        + (f" ({detail[0]})" if detail else "")
        + "; check out with full history (actions/checkout: fetch-depth: 0)"
    )


def _diff(top: Path, merge_base: str) -> dict[str, set[int]]:
    proc = _git(
        [
            "-c",
            "core.quotepath=off",
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--unified=0",
            "--find-renames",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            merge_base,
            "--",
        ],
        top,
    )
    if proc.returncode != 0:
        raise ConfigError(f"git diff {merge_base} failed: {proc.stderr.strip()}")
    changed: dict[str, set[int]] = {}
    for rel, lines in parse_diff(proc.stdout).items():
        changed[os.path.realpath(top / rel)] = lines
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], top)
    for rel in filter(None, untracked.stdout.split("\0")):
        path = top / rel
        if rel.endswith(".py") and path.is_file():
            try:
                count = len(path.read_text(encoding="utf-8", errors="replace").splitlines())
            except OSError:
                continue
            changed[os.path.realpath(path)] = set(range(1, count + 1))
    return changed


def parse_diff(text: str) -> dict[str, set[int]]:
    """New-side line numbers of added/changed lines per file, from ``git diff -U0``.

    Hunk bodies are consumed by their line counts, so content that looks like a
    header (an added line ``++ x`` shows as ``+++ x``) is never misread.
    """
    changed: dict[str, set[int]] = {}
    current: str | None = None
    old_left = new_left = 0
    for line in text.splitlines():
        if old_left > 0 or new_left > 0:
            if line.startswith("+"):
                new_left -= 1
            elif line.startswith("-"):
                old_left -= 1
            elif line.startswith(" "):
                old_left -= 1
                new_left -= 1
            continue
        if line.startswith("diff --git "):
            current = None
        elif line.startswith("+++ "):
            target = line[4:].rstrip("\t")
            if target == "/dev/null":
                current = None
            else:
                target = unquote(target)
                current = target[2:] if target.startswith("b/") else target
        elif line.startswith("@@ ") and current is not None:
            m = _HUNK.match(line)
            if not m:
                continue
            old_left = int(m.group(2)) if m.group(2) is not None else 1
            start = int(m.group(3))
            count = int(m.group(4)) if m.group(4) is not None else 1
            new_left = count
            if count:
                changed.setdefault(current, set()).update(range(start, start + count))
    return changed


_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote(path: str) -> str:
    """Undo git's C-style quoting of a path (``"a\\tb.py"``)."""
    if not (len(path) >= 2 and path[0] == '"' and path[-1] == '"'):
        return path
    body = path[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if re.match(r"[0-7]{3}", body[i + 1 : i + 4]):
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
        out.extend(c.encode("utf-8"))
        i += 1
    return out.decode("utf-8", errors="replace")
