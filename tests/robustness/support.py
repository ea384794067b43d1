"""Shared strategies and the contract every hostile-input test checks.

The contract (issue 24 §2): whatever the input, ``django-gates`` prints no Python
traceback; it exits 2 (usage or configuration error) or 3 (could not run) with one
sentence naming the file or option and what to do, or gives a normal result; and it
never leaves a file half-written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from tests.helpers import clean_env

EXIT_USAGE = 2
EXIT_ERROR = 3


def in_process(factor: int = 10) -> settings:
    """Settings of an in-process test: ``factor`` times the profile's examples (a real
    process per example is what bounds the others)."""
    current = settings.default
    assert current is not None
    return settings(max_examples=current.max_examples * factor)


def run_cli(
    args: list[str], cwd: Path, env: Mapping[str, str | bytes] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest_django_gates ARGS`` in ``cwd``; output decoded leniently (a
    report may carry any character)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_django_gates", *args],
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
        check=False,
    )


def check_contract(proc: subprocess.CompletedProcess[str], *names: str) -> None:
    """No traceback; a normal result (0, 1, 3) or an error sentence. Exit 2 must say,
    on stderr, ``django-gates: error: ...`` naming one of ``names`` (a file, an option)."""
    out = proc.stdout + proc.stderr
    assert "Traceback (most recent call last)" not in out, out[-4000:]
    assert proc.returncode in (0, 1, EXIT_USAGE, EXIT_ERROR), (proc.returncode, out[-4000:])
    if proc.returncode == EXIT_USAGE:
        lines = [line for line in proc.stderr.splitlines() if line.startswith("django-gates:")]
        assert lines, proc.stderr[-4000:]
        message = lines[-1]
        assert "error" in message, message
        if names:
            assert any(name in message for name in names), (names, message[:2000])


def no_leftovers(directory: Path) -> None:
    """No temporary file of an atomic write is left behind."""
    stray = [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]
    assert not stray, stray


# --------------------------------------------------------------------------- JSON values

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The right kind of value, or anything (the wrong type, a missing one)."""
    return st.one_of(strategy, strategy, json_values)


def deep_nesting(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


@st.composite
def mangled_json(draw: st.DrawFn, document: Any) -> bytes:
    """``document`` as JSON, then perhaps broken: truncated, non-UTF-8 bytes spliced in,
    a key duplicated, nested past any recursion limit, or a lone surrogate escape."""
    text = json.dumps(document, ensure_ascii=draw(st.booleans()))
    how = draw(
        st.sampled_from(
            ["as is", "as is", "truncate", "bytes", "duplicate", "deep", "surrogate", "empty"]
        )
    )
    if how == "truncate":
        return text.encode("utf-8", "surrogatepass")[: draw(st.integers(0, max(0, len(text) - 1)))]
    if how == "bytes":
        data = text.encode("utf-8", "surrogatepass")
        at = draw(st.integers(0, len(data)))
        junk = draw(st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3", b"\x80\x80", b"\xed\xa0\x80"]))
        return data[:at] + junk + data[at:]
    if how == "duplicate" and text.startswith("{") and len(text) > 2:
        return ('{"format": 2, ' + text[1:]).encode("utf-8", "surrogatepass")
    if how == "deep":
        depth = draw(st.sampled_from([500, 5_000, 100_000]))
        if text.startswith("{") and len(text) > 2:
            return ('{"deep": ' + deep_nesting(depth) + ", " + text[1:]).encode()
        return deep_nesting(depth).encode()
    if how == "surrogate" and '"' in text:
        return text.replace('"', '"\\ud800', 1).encode("utf-8", "surrogatepass")
    if how == "empty":
        return draw(st.sampled_from([b"", b" ", b"\n", b"\xef\xbb\xbf{}", b"null"]))
    return text.encode("utf-8", "surrogatepass")
