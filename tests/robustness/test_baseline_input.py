"""Baseline files fed generated hostile content: the query-count baseline, the ruff and
mypy hold baselines and the migrations baseline, through their loading functions, and the
ruff hold baseline through ``django-gates run --only ruff`` in a real process."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from pytest_django_gates.config import ConfigError
from pytest_django_gates.gates import _hold
from pytest_django_gates.migrations.baseline import Baseline
from pytest_django_gates.queries import baseline as query_baseline
from tests.helpers import clean_env, runs_once
from tests.robustness.support import (
    check_contract,
    deep_nesting,
    in_process,
    json_values,
    mangled_json,
    maybe,
    run_cli,
)

pytestmark = runs_once()

_format = st.one_of(st.just(1), st.just(1), st.sampled_from([2, 99, "1", None, 0]))
_counts = st.integers(-3, 10**20)

query_baselines = st.fixed_dictionaries(
    {"format": _format},
    optional={
        "tests": maybe(st.dictionaries(st.text(max_size=30), maybe(_counts), max_size=4)),
        "repeated": maybe(st.dictionaries(st.text(max_size=30), maybe(_counts), max_size=4)),
    },
)
hold_baselines = st.fixed_dictionaries(
    {"format": _format},
    optional={
        "gate": maybe(st.sampled_from(["ruff", "mypy"])),
        "findings": maybe(
            st.lists(
                maybe(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "fingerprint": maybe(st.text(max_size=20)),
                            "count": maybe(_counts),
                            "line": json_values,
                        },
                    )
                ),
                max_size=4,
            )
        ),
    },
)
migration_baselines = st.fixed_dictionaries(
    {"format": _format},
    optional={
        "gate": maybe(st.just("migrations")),
        "migrations": maybe(
            st.dictionaries(
                maybe(st.sampled_from(["shop.0001_initial", "a.b.c", "x"])).map(str),
                maybe(st.lists(maybe(st.sampled_from(["DJG203"])), max_size=3)),
                max_size=3,
            )
        ),
        "drift": maybe(
            st.dictionaries(st.text(max_size=8), maybe(st.lists(st.text()))),
        ),
    },
)

NOT_UTF8 = b'{"format": 1, "tests": {"t\xff": 1}}'
TOO_DEEP = ('{"format": 1, "tests": ' + deep_nesting(100_000) + "}").encode()
LONE_SURROGATE = b'{"format": 1, "tests": {"\\udc80": 1}}'
NEWER = b'{"format": 2, "tests": {}}'


def _load_each(data: bytes) -> None:
    """Every loader gives a value or a ConfigError naming the file; nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "baseline.json"
        path.write_bytes(data)
        loaders: list[Any] = [
            lambda: query_baseline.load(path, "pytest --django-gates --gates-update-baseline"),
            lambda: _hold.load("ruff", path),
            lambda: _hold.load("mypy", path),
            lambda: Baseline.load(path),
        ]
        problems = []
        for load in loaders:
            try:
                load()
            except ConfigError as exc:
                problems.append(str(exc))
        for message in problems:
            assert str(path) in message, message
            assert "\n" not in message, message


@in_process()
@given(data=st.one_of(query_baselines, hold_baselines, migration_baselines).flatmap(mangled_json))
# Regressions: NOT_UTF8 and TOO_DEEP raised UnicodeDecodeError / RecursionError.
@example(data=NOT_UTF8)
@example(data=TOO_DEEP)
@example(data=LONE_SURROGATE)
@example(data=NEWER)
def test_baseline_loaders(data: bytes) -> None:
    _load_each(data)


@given(data=hold_baselines.flatmap(mangled_json))
@example(data=NOT_UTF8)
@example(data=TOO_DEEP)
def test_ruff_hold_baseline_in_a_run(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text('[project]\nname = "hostile"\n')
        (root / ".django-gates").mkdir()
        (root / ".django-gates" / "ruff-baseline.json").write_bytes(data)
        env = clean_env({"DJANGO_GATES_RUFF_COMMAND": str(Path(sys.executable).with_name("ruff"))})
        proc = run_cli(["run", "--only", "ruff"], cwd=root, env=env)
        check_contract(proc, "ruff-baseline.json")
