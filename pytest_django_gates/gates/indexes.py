"""The ``indexes`` gate: missing indexes, from the queries the test suite ran.

Only inside ``pytest --django-gates`` (the queries are the suite's): the session's
:class:`~pytest_django_gates.indexes.collect.IndexesPlugin` records one example of
each query shape, explains those that filter, join or order a table of a project
app on the test database after the last test, and judges the plans
(:mod:`pytest_django_gates.indexes.judge`: ``DJG120`` filter, ``DJG121`` join,
``DJG122`` ORDER BY with LIMIT). This module turns the merged result into the
gate result.

``indexes.mode``: ``report`` (the default) makes each finding a warning, ``fail``
an error (the gate fails, and so does the pytest run), ``off`` skips the gate.
A statement the database could not explain makes the gate an ``error``: it
could not look.

The gate is opt-in (not in the default ``gates`` list) while it is measured:
``gates = [..., "indexes"]`` or ``DJANGO_GATES_GATES=queries,indexes``.
"""

from __future__ import annotations

from pytest_django_gates.gates import GateContext
from pytest_django_gates.report import GateResult

NAME = "indexes"
PLUGIN = "django_gates_indexes"
SHOWN_ERRORS = 3


def run(ctx: GateContext) -> GateResult:
    if ctx.config["indexes.mode"] == "off":
        return GateResult(name=NAME, status="skipped", summary="indexes.mode is off")
    session = ctx.extra.get("pytest_session")
    plugin = None if session is None else session.config.pluginmanager.get_plugin(PLUGIN)
    if session is None or plugin is None:
        return GateResult(
            name=NAME,
            status="error",
            summary="the indexes gate explains the queries tests ran: use pytest --django-gates",
        )
    if session.config.option.collectonly:
        return GateResult(name=NAME, status="skipped", summary="--collect-only: no test ran")
    from pytest_django_gates.indexes.collect import Merged

    merged: Merged = plugin.merged
    on = "/".join(sorted(merged.vendors)) or "no database"
    counts = (
        f"{merged.shapes} query shape{'s' if merged.shapes != 1 else ''}, "
        f"{merged.explained} explained on {on} in {merged.seconds:.2f}s"
    )
    problems = list(merged.errors)
    if merged.unreported:
        problems.insert(0, f"xdist worker(s) {', '.join(merged.unreported)} sent no result")
    if problems:
        shown = "; ".join(problems[:SHOWN_ERRORS])
        more = f" (+{len(problems) - SHOWN_ERRORS} more)" if len(problems) > SHOWN_ERRORS else ""
        return GateResult(
            name=NAME,
            status="error",
            summary=f"{counts}; could not look: {shown}{more}",
            findings=tuple(merged.findings),
        )
    result = GateResult.from_findings(NAME, merged.findings)
    return GateResult(
        name=NAME,
        status=result.status,
        summary=f"{counts}; {result.summary}",
        findings=result.findings,
    )
