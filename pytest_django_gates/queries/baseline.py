"""The per-test query baseline: a committed ratchet of query counts.

File format (JSON, sorted, one entry per test node id)::

    {"format": 1, "tests": {"tests/test_views.py::test_list": 4, ...}}

A test whose call phase runs more queries than its baseline fails
(``DJG103``). ``--gates-update-baseline`` rewrites the file with this run's
counts; entries of tests that did not run are kept (a ``-k`` run never drops
them).

A corrupt or hand-broken file (not JSON, or not this shape) is never silently
ignored: it is a usage error (pytest exit 4) naming the file, what is wrong (the
line and column of a JSON error, or the part of the shape that is off) and the
command that rebuilds it, ``pytest --django-gates --gates-update-baseline`` (with
``--gates-query-baseline=PATH`` when the path came from the command line). That
command works on the corrupt file: updating starts from an empty baseline instead
of the unreadable one and rewrites the file atomically from the run's counts (a
full run, then, as the old entries cannot be kept); the terminal summary says the
file was rebuilt. A file that cannot be read at all (permissions, a directory)
stays an error, updating or not.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path

from pytest_django_gates.config import ConfigError, GatesConfig
from pytest_django_gates.report import atomic_write_text, read_json

FORMAT = 1


class CorruptBaseline(ConfigError):
    """The baseline file is there but is not a baseline: not JSON, or not its shape.

    ``problem`` names the file and what is wrong; the message adds the command
    that rebuilds the file."""

    def __init__(self, problem: str, rebuild: str) -> None:
        super().__init__(
            f"{problem}; rebuild it from the query counts of a full run with: {rebuild}"
        )
        self.problem = problem


def update_command(cfg: GatesConfig) -> str:
    """The command that rewrites the configured baseline from a run's counts."""
    words = ["pytest", "--django-gates", "--gates-update-baseline"]
    if cfg.source("queries.baseline").startswith("command line"):
        words.insert(2, f"--gates-query-baseline={cfg.values['queries.baseline']}")
    return shlex.join(words)


def load(path: Path, rebuild: str) -> dict[str, int]:
    """The baseline at ``path``; an absent file is an empty baseline.

    A file that is not a baseline raises :class:`CorruptBaseline`, whose message
    ends with ``rebuild`` (the command that rewrites it).
    """
    if not path.exists():
        return {}
    try:
        data = read_json(path, what="query baseline", error=ConfigError)
    except ConfigError as exc:
        if isinstance(exc.__cause__, OSError):
            raise ConfigError(f"{exc}; check the file's path and permissions") from None
        raise CorruptBaseline(str(exc), rebuild) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CorruptBaseline(
            f'query baseline {path}: expected a JSON object with "format": {FORMAT}, '
            f"got {_shown(data)}",
            rebuild,
        )
    tests = data.get("tests")
    if not isinstance(tests, dict):
        raise CorruptBaseline(
            f'query baseline {path}: "tests" must be an object of node id -> count, '
            f"got {_shown(tests)}",
            rebuild,
        )
    counts: dict[str, int] = {}
    for nodeid, count in tests.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise CorruptBaseline(
                f"query baseline {path}: count for {nodeid!r} must be a whole number >= 0, "
                f"got {count!r}",
                rebuild,
            )
        counts[nodeid] = count
    return counts


def _shown(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def write(path: Path, old: Mapping[str, int], new: Mapping[str, int]) -> None:
    """Write ``old`` updated with ``new``, atomically."""
    merged = dict(old)
    merged.update(new)
    data = {"format": FORMAT, "tests": dict(sorted(merged.items()))}
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")
