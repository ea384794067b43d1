"""Which source lines run inside a loop: ``for`` / ``while`` bodies and comprehensions.

Used to recognise a *latent* N+1: a relation read once, on a row of a
multi-row queryset, from a line that a loop repeats.
"""

from __future__ import annotations

import ast
import linecache
from functools import lru_cache


@lru_cache(maxsize=1024)
def loop_lines(filename: str) -> frozenset[int]:
    """Line numbers of ``filename`` that lie inside a loop body or a comprehension.

    Unreadable or unparsable files have none (the latent rule then stays silent;
    repeated queries are still caught by counting).
    """
    source = "".join(linecache.getlines(filename))
    if not source:
        return frozenset()
    try:
        tree = ast.parse(source, filename)
    except (SyntaxError, ValueError):
        return frozenset()
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            first = node.body[0].lineno
            last = max((getattr(n, "end_lineno", None) or n.lineno) for n in node.body)
            lines.update(range(first, last + 1))
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return frozenset(lines)


def in_loop(filename: str, line: int) -> bool:
    return line in loop_lines(filename)
