"""What a loop walks (queries/items.py) and the cheap test before parsing a file
(queries/loops.py), as units."""

from __future__ import annotations

import textwrap
from pathlib import Path

from pytest_django_gates.queries import loops

SOURCE = textwrap.dedent(
    """
    def no_loop():
        x = 1
        return x


    def comprehension(items):
        return [
            q(x)
            for x in items
        ]


    for y in range(3):
        q(y)


    class C:
        def method(self):
            while True:
                q()

        def numbered(self, lines):
            for number, line in enumerate(lines, 1):
                q(line)
    """
)


def test_a_function_without_for_or_while_is_not_parsed(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text(SOURCE)
    name = str(path)
    assert not loops._function_may_loop(name, 3)
    assert loops.enclosing(name, 3) == ()
    assert loops._function_may_loop(name, 9)  # a comprehension over several lines
    assert loops._function_may_loop(name, 15)  # module-level code: the parser decides
    assert loops._function_may_loop(name, 21)
    (head,) = loops.enclosing(name, 21)
    assert head.kind == "while"
    (comp,) = loops.enclosing(name, 9)
    assert (comp.kind, comp.targets, comp.iter_name) == ("for", ("x",), "items")
    # enumerate's counter is not what the loop walks
    (numbered,) = loops.enclosing(name, 25)
    assert numbered.targets == ("line",)
