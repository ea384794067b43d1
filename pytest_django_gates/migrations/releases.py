"""Which release first shipped each migration, from the project's git tags.

The migration gate judges what one deploy does to a database the previous release's
code still uses. With ``--since`` the deploy is the range; with ``--all`` (a whole
history: first adoption, the baseline) each migration is its own deploy unless the
project says where its releases are: ``migrations.releases = "tags"``. Then the
migrations first shipped by the same release tag are one deploy: a table or column
created and dropped (renamed, retyped, made NOT NULL) between two releases was never
used by released code, and is judged as new.

Release tags are the tags matching ``migrations.release_tags`` (a regular expression;
default :data:`VERSION_TAG`: ``1.2``, ``v1.2.3``, ``2024.05``, pre-releases such as
``1.3rc1`` or ``v2.0.0-beta.1`` counted as releases), in the order of their commits'
dates (``git for-each-ref --sort=creatordate``). A migration file belongs to the first
tag whose tree has it, found by its last three path parts (``<app>/migrations/<name>.py``,
see :func:`key_of`: a project that moved its code, into a ``src/`` layout say, keeps its
migrations' releases); one no tag has is in the next release (the unreleased deploy).
Nothing here imports Django.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pytest_django_gates.config import ConfigError

VERSION_TAG = r"^v?\d+(\.\d+)+([.-]?(a|b|rc|alpha|beta|pre|dev|post)[.-]?\d*)?$"
UNRELEASED = ""  # the deploy of migrations no release tag has yet


@dataclass(frozen=True)
class Releases:
    """Migration file (:func:`key_of`) -> the tag that first shipped it."""

    shipped: dict[str, str]
    tags: int  # release tags found
    pattern: str


def key_of(path: str | Path) -> str:
    """How a migration file is found in the releases: ``<app>/migrations/<name>.py``,
    the last three parts of its path (whatever directory the app's package is in)."""
    return "/".join(Path(path).parts[-3:])


def _git(args: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f'migrations.releases = "tags": git {args[0]} failed: {exc}') from exc
    if done.returncode != 0:
        raise ConfigError(
            f'migrations.releases = "tags" needs a git repository with its tags: '
            f"git {' '.join(args[:2])} failed in {cwd}: {done.stderr.strip()[:300]}"
        )
    return done.stdout


def read_releases(rootdir: Path, pattern: str | None) -> Releases:
    """The release of every migration file of the repository at ``rootdir``.

    A configuration error when the pattern is not a regular expression, when this is
    not a git work tree, or when no tag matches it (a history judged as one deploy
    would hide every drop of a column released long ago: fail closed)."""
    wanted = pattern or VERSION_TAG
    try:
        regex = re.compile(wanted)
    except re.error as exc:
        raise ConfigError(
            f"migrations.release_tags = {wanted!r} is not a regular expression: {exc}"
        ) from exc
    top = Path(_git(["rev-parse", "--show-toplevel"], rootdir).strip())
    listed = _git(
        ["for-each-ref", "--sort=creatordate", "--format=%(refname:short)", "refs/tags"], top
    )
    tags = [t for t in listed.split() if regex.search(t)]
    if not tags:
        raise ConfigError(
            f'migrations.releases = "tags", but no tag of {top} matches {wanted!r}: '
            "fetch the tags (actions/checkout with fetch-depth: 0 and fetch-tags: true), "
            "set migrations.release_tags to your tags' pattern, or remove migrations.releases"
        )
    shipped: dict[str, str] = {}
    for tag in tags:
        files = _git(["ls-tree", "-r", "--name-only", "-z", f"{tag}^{{tree}}"], top)
        for path in files.split("\0"):
            if "/migrations/" in f"/{path}" and path.endswith(".py"):
                shipped.setdefault(key_of(path), tag)
    return Releases(shipped=shipped, tags=len(tags), pattern=wanted)
