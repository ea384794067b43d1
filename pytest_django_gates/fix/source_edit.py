"""Edits of Python source at spans :mod:`ast` locates, leaving every other byte alone.

:mod:`ast` gives each node's start and end as (line, column in UTF-8 bytes); these
helpers turn them into offsets in the text and splice replacements in. Everything
outside the replaced spans (comments, blank lines, quotes, trailing commas) is kept
as it was, which is what a concrete syntax tree would give for these small edits
without a compiled dependency. Every edited text is parsed again before it is used
(:func:`check_parses`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


class EditError(Exception):
    """The source does not have the shape an edit needs (a sentence for the user)."""


@dataclass(frozen=True)
class Splice:
    start: int  # offset in the text (characters)
    end: int
    text: str


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    return starts


def offset(text: str, line: int, col_bytes: int) -> int:
    """The character offset of (1-based ``line``, ``col_bytes`` UTF-8 bytes in)."""
    starts = _line_starts(text)
    if line - 1 >= len(starts):
        return len(text)
    start = starts[line - 1]
    end = starts[line] if line < len(starts) else len(text)
    prefix = text[start:end].encode("utf-8")[:col_bytes].decode("utf-8", errors="ignore")
    return start + len(prefix)


def span(text: str, node: ast.AST) -> tuple[int, int]:
    """The (start, end) character offsets of ``node`` in ``text``."""
    end_line = getattr(node, "end_lineno", None)
    end_col = getattr(node, "end_col_offset", None)
    if end_line is None or end_col is None:  # pragma: no cover - every expression has them
        raise EditError("the node has no end position")
    return offset(text, node.lineno, node.col_offset), offset(text, end_line, end_col)  # type: ignore[attr-defined]


def apply(text: str, splices: list[Splice]) -> str:
    """``text`` with ``splices`` (non-overlapping) applied."""
    out: list[str] = []
    cursor = 0
    for one in sorted(splices, key=lambda s: (s.start, s.end)):
        if one.start < cursor:
            raise EditError("two edits overlap")
        out.append(text[cursor : one.start])
        out.append(one.text)
        cursor = one.end
    out.append(text[cursor:])
    return "".join(out)


def check_parses(text: str, where: str) -> None:
    try:
        ast.parse(text)
    except SyntaxError as exc:
        raise EditError(
            f"the edit of {where} would not parse ({exc.msg}, line {exc.lineno})"
        ) from None


def indent_of_line(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    line = text[start:pos]
    return line[: len(line) - len(line.lstrip(" \t"))]


def add_keyword(text: str, call: ast.Call, name: str, value: str) -> Splice:
    """A splice adding ``name=value`` as the last argument of ``call``: on a line of its
    own, indented as the last argument, when the call is written one argument per line
    with a trailing comma; else after the last argument, on its line."""
    arguments: list[ast.AST] = [*call.args, *call.keywords]
    if not arguments:
        _start, end = span(text, call)
        return Splice(end - 1, end - 1, f"{name}={value}")
    last = max(arguments, key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
    _last_start, last_end = span(text, last)
    _call_start, call_end = span(text, call)
    between = text[last_end : call_end - 1]
    if "," in between:
        comma = last_end + between.index(",") + 1
        if "\n" in between:
            # On a line of its own after the last argument's line (and its comment).
            indent = indent_of_line(text, _last_start)
            line_end = text.find("\n", comma)
            return Splice(line_end, line_end, f"\n{indent}{name}={value},")
        return Splice(comma, comma, f" {name}={value},")
    return Splice(last_end, last_end, f", {name}={value}")


def top_imports(tree: ast.Module) -> list[ast.stmt]:
    return [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]


def imports_name(tree: ast.Module, module: str, name: str) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == module
        and any(alias.name == name and alias.asname is None for alias in node.names)
        for node in top_imports(tree)
    )


def ensure_import(text: str, tree: ast.Module, module: str, name: str) -> Splice | None:
    """A splice adding ``from module import name`` (None when it is imported already):
    before the first top-level ``from`` import whose module sorts after it, else after
    the last top-level import, so that sorted imports stay sorted."""
    if imports_name(tree, module, name):
        return None
    line = f"from {module} import {name}\n"
    imports = top_imports(tree)
    for node in imports:
        if isinstance(node, ast.ImportFrom) and (node.module or "") > module:
            at = offset(text, node.lineno, 0)
            return Splice(at, at, line)
    if imports:
        last = imports[-1]
        at = offset(text, (last.end_lineno or last.lineno) + 1, 0)
        return Splice(at, at, line)
    return Splice(0, 0, line)
