"""The per-test query baseline: a committed ratchet of query counts.

File format (JSON, sorted, one entry per test node id)::

    {"format": 1, "tests": {"tests/test_views.py::test_list": 4, ...},
     "repeated": {"tests/test_views.py::test_list": 2, ...}}

A test whose call phase runs more queries than its baseline fails
(``DJG103``). ``repeated`` (optional; files written before it existed have none)
holds, for each test of ``tests``, how many of its queries were repeated statements the
gate found (N+1s, per-input-item lookups, write loops), allowed or not. It tells
how a count grew: when every repeated statement of the run is allowed (a
``queries.allow`` entry or ``allow_n_plus_one``) and the queries outside them
did not grow, the growth is more repetitions of allowed problems, because the
test's data grew (rows made up to the current time, say); that is a ``DJG103``
warning, not an error.

``clock`` (optional) lists the tests whose count follows the time of day, each with
the two counts that showed it: ``{"<node id>": [count, count with the clock moved]}``.
``django-gates init --baselines`` writes it from a second run of the suite with
Django's clock moved (queries/clock.py); an update keeps it. Such a test's growth is
a ``DJG103`` warning that names the two counts: no baseline can hold a count that
changes with the hour. Give the test a fixed clock and remove its entry to hold it
again. A new query anywhere else still grows the rest, and is
an error. ``--gates-update-baseline`` rewrites the file with this run's
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
from dataclasses import dataclass, field
from pathlib import Path

from pytest_django_gates.config import ConfigError, GatesConfig
from pytest_django_gates.report import atomic_write_text, read_json

FORMAT = 1


@dataclass
class Baseline:
    """Per test node id: its query count, and how many of them were repeated statements."""

    counts: dict[str, int] = field(default_factory=dict)
    repeated: dict[str, int] = field(default_factory=dict)
    clock: dict[str, tuple[int, int]] = field(default_factory=dict)


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


def load(path: Path, rebuild: str) -> Baseline:
    """The baseline at ``path``; an absent file is an empty baseline.

    A file that is not a baseline raises :class:`CorruptBaseline`, whose message
    ends with ``rebuild`` (the command that rewrites it).
    """
    if not path.exists():
        return Baseline()
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
    found = Baseline(counts=_counts(path, "tests", tests, rebuild))
    repeated = data.get("repeated", {})
    if not isinstance(repeated, dict):
        raise CorruptBaseline(
            f'query baseline {path}: "repeated" must be an object of node id -> count, '
            f"got {_shown(repeated)}",
            rebuild,
        )
    found.repeated = _counts(path, "repeated", repeated, rebuild)
    clock = data.get("clock", {})
    if not isinstance(clock, dict) or not all(
        isinstance(v, list)
        and len(v) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in v)
        for v in clock.values()
    ):
        raise CorruptBaseline(
            f'query baseline {path}: "clock" must be an object of node id -> [count, count '
            f"with the clock moved], got {_shown(clock)}",
            rebuild,
        )
    found.clock = {str(k): (v[0], v[1]) for k, v in clock.items()}
    return found


def _counts(path: Path, key: str, table: Mapping[str, object], rebuild: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for nodeid, count in table.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            where = "count" if key == "tests" else f'"{key}" count'
            raise CorruptBaseline(
                f"query baseline {path}: {where} for {nodeid!r} must be a whole number >= 0, "
                f"got {count!r}",
                rebuild,
            )
        counts[nodeid] = count
    return counts


def _shown(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def write(path: Path, old: Baseline, new: Baseline) -> None:
    """Write ``old`` updated with ``new``, atomically: each test of ``new`` gets its
    count and its repeated count (a test of ``old`` only keeps what it had: a file
    written before ``repeated`` existed has none, and its growth is judged as before);
    ``clock`` keeps every entry of both."""
    counts = dict(old.counts)
    counts.update(new.counts)
    repeated = {k: v for k, v in old.repeated.items() if k not in new.counts}
    repeated.update((k, new.repeated.get(k, 0)) for k in new.counts)
    data: dict[str, object] = {"format": FORMAT, "tests": dict(sorted(counts.items()))}
    if repeated:
        data["repeated"] = dict(sorted(repeated.items()))
    clock = {**old.clock, **new.clock}
    if clock:
        data["clock"] = {k: list(v) for k, v in sorted(clock.items())}
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")
