"""Configuration fed generated hostile input: ``[tool.django-gates]`` tables and
``DJANGO_GATES_*`` variables, loaded by ``django-gates run --only ruff`` in a real process
(ruff on an empty project: the cheapest command that loads the whole configuration)."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from pytest_django_gates import options
from tests.helpers import clean_env, runs_once
from tests.robustness.support import check_contract, deep_nesting, run_cli

pytestmark = runs_once()

RUFF = str(Path(sys.executable).with_name("ruff"))
# Values that would make the run write or execute somewhere: pinned by the environment
# (which wins over pyproject.toml), never generated.
PINNED = {
    "DJANGO_GATES_RUFF_COMMAND": RUFF,
    "DJANGO_GATES_REPORT": "",
    "DJANGO_GATES_RUFF_PATHS": ".",
}
PINNED_KEYS = {"ruff.command", "report", "ruff.paths"}

KEYS = sorted(k for k in options.OPTIONS if k not in PINNED_KEYS)
ENV_NAMES = sorted(
    o.env_name for o in options.OPTIONS.values() if o.env and o.env_name not in PINNED
)


# ------------------------------------------------------------------------- a TOML writer


def _toml_key(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    raise AssertionError(value)


_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    _text,
    st.sampled_from(["fail", "report", "off", "auto", "baseline", "ruff", "1", "-1", "0.5"]),
)
toml_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=8,
)


@st.composite
def pyproject_texts(draw: st.DrawFn) -> bytes:
    """A pyproject.toml whose [tool.django-gates] tables hold known keys with any value
    and unknown keys, or a broken file."""
    top: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=5, unique=True)):
        value = draw(
            st.one_of(
                toml_values,
                # a huge list
                st.builds(lambda v, n: [v] * n, toml_values, st.sampled_from([1000, 20_000])),
            )
        )
        section, _, name = key.rpartition(".")
        (sections.setdefault(section, {}) if section else top)[name] = value
    if draw(st.booleans()):
        unknown = draw(_text.filter(lambda k: k not in options.OPTIONS))
        top[unknown] = draw(toml_values)
    lines = ["[project]", 'name = "hostile"', "", "[tool.django-gates]"]
    lines += [f"{_toml_key(k)} = {toml_value(v)}" for k, v in top.items()]
    for section, table in sections.items():
        lines.append(f"[tool.django-gates.{_toml_key(section)}]")
        lines += [f"{_toml_key(k)} = {toml_value(v)}" for k, v in table.items()]
    text = "\n".join(lines) + "\n"
    how = draw(st.sampled_from(["as is", "as is", "as is", "truncate", "bytes", "deep", "dup"]))
    data = text.encode("utf-8")
    if how == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if how == "bytes":
        at = draw(st.integers(0, len(data)))
        return (
            data[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\xed\xa0\x80"]))
            + data[at:]
        )
    if how == "deep":
        depth = draw(st.sampled_from([100, 2_000, 50_000]))
        return data + f"[tool.django-gates.ruff]\npaths = {deep_nesting(depth)}\n".encode()
    if how == "dup":
        return data + b'[tool.django-gates]\ngates = ["ruff"]\n'
    return data


def _run(pyproject: bytes | None, environ: dict[str, str | bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if pyproject is not None:
            (root / "pyproject.toml").write_bytes(pyproject)
        env: dict[str, str | bytes] = {**clean_env(PINNED), **environ}
        proc = run_cli(["run", "--only", "ruff"], cwd=root, env=env)
        check_contract(proc, "pyproject.toml", *environ, "DJANGO_GATES", "tool.django-gates")
        # the run writes nothing of its own in the project (no --output, no report)
        left = {p.name for p in root.iterdir()} - {"pyproject.toml", ".ruff_cache"}
        assert not left, left


@given(pyproject=pyproject_texts())
# Regressions: each crashed with a traceback before the fix.
@example(pyproject=b'[tool.django-gates]\ngates = ["ruff"]\n\xff\n')  # not UTF-8
@example(pyproject=b"[tool.django-gates.ruff]\npaths = " + deep_nesting(50_000).encode() + b"\n")
@example(pyproject=b"[tool.django-gates.queries]\nthreshold = inf\n")  # int option, inf
@example(pyproject=b"[tool.django-gates.pip-audit]\ntimeout = -inf\n")
def test_pyproject_table(pyproject: bytes) -> None:
    _run(pyproject, {})


_env_values = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30),
    st.sampled_from(
        ["", " ", ",", ",,", "=", "a=", "=b", "1e999", "-0", "nan", "inf", "99" * 2500]
    ),
    st.binary(max_size=10).filter(lambda b: b"\x00" not in b),  # not UTF-8
)


@given(environ=st.dictionaries(st.sampled_from(ENV_NAMES), _env_values, max_size=4))
# Regression: the error named --since, not the variable that set the base.
@example(environ={"DJANGO_GATES_RUN_SINCE": "0"})
@example(environ={"DJANGO_GATES_QUERIES_THRESHOLD": "99" * 2500})  # past int()'s digit limit
@example(environ={"DJANGO_GATES_RUN_TIMEOUT": "1e999"})
@example(environ={"DJANGO_GATES_GATES": b"ruff,\xff"})
def test_environment(environ: dict[str, str | bytes]) -> None:
    if any(isinstance(v, bytes) for v in environ.values()) and os.name != "posix":
        return
    _run(b'[project]\nname = "hostile"\n', environ)


def test_ruff_is_installed() -> None:
    """The tests above run the ruff gate with the virtualenv's ruff."""
    assert shutil.which(RUFF)
