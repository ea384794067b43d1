"""The per-test query baseline: a committed ratchet of query counts.

File format (JSON, sorted, one entry per test node id)::

    {"format": 1, "tests": {"tests/test_views.py::test_list": 4, ...}}

A test whose call phase runs more queries than its baseline fails
(``DJG103``). ``--gates-update-baseline`` rewrites the file with this run's
counts; entries of tests that did not run are kept (a ``-k`` run never drops
them). A corrupt or hand-broken file is an error naming the file and the
position, never silently ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from pytest_django_gates.config import ConfigError
from pytest_django_gates.report import atomic_write_text, read_json

FORMAT = 1


def load(path: Path) -> dict[str, int]:
    """The baseline at ``path``; an absent file is an empty baseline."""
    if not path.exists():
        return {}
    data = read_json(
        path,
        what="query baseline",
        next_step="fix the file or regenerate it with --gates-update-baseline",
        error=ConfigError,
    )
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(
            f'query baseline {path}: expected an object with "format": {FORMAT}; '
            "regenerate it with --gates-update-baseline"
        )
    tests = data.get("tests")
    if not isinstance(tests, dict):
        raise ConfigError(f'query baseline {path}: "tests" must be an object of node id -> count')
    counts: dict[str, int] = {}
    for nodeid, count in tests.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ConfigError(
                f"query baseline {path}: count for {nodeid!r} must be a whole number >= 0, "
                f"got {count!r}"
            )
        counts[nodeid] = count
    return counts


def write(path: Path, old: Mapping[str, int], new: Mapping[str, int]) -> None:
    """Write ``old`` updated with ``new``, atomically."""
    merged = dict(old)
    merged.update(new)
    data = {"format": FORMAT, "tests": dict(sorted(merged.items()))}
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")
