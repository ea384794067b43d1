"""The ``indexes`` gate's work inside ``pytest --django-gates``: collect, explain, merge.

While each test's body runs, every statement is recorded (with its parameters,
see :func:`pytest_django_gates.queries.capture.keep_params`); the first example
of each distinct query shape per database alias is kept, with up to
:data:`SITES` user lines that ran it. Statements the test's own line ran
straight into Django (an assertion's ``Model.objects.filter(...)``) and those
of test-data builders are not the project's queries and are left out.

Once, after the last test and before pytest-django destroys the test
databases, each kept statement that filters, joins or orders a
table of a project app is explained on the test database
(:mod:`~pytest_django_gates.indexes.plan`) and judged
(:mod:`~pytest_django_gates.indexes.judge`). "Before the databases are destroyed"
is a finalizer added to pytest-django's session fixture ``django_db_setup``
when it is set up (through the public ``pytest_fixture_setup`` hook and
``FixtureDef.addfinalizer``): finalizers run last-in first-out, so it runs
after every test, its class teardown included (a unittest ``SimpleTestCase``
forbids queries until its ``tearDownClass``), and before the fixture's own
teardown drops the databases, also when ``-x`` cut the run short. A session
that never set the databases up ran no query to explain; the session's end
explains what there is then. Under pytest-xdist every worker
does this for its own tests on its own test database and sends the result in
its ``workeroutput``; the controller merges them (the same missing index found
by two workers is one finding).
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates.queries import capture, sql
from pytest_django_gates.queries.stack import relative
from pytest_django_gates.report import Finding

WORKER_KEY = "django_gates_indexes"
SITES = 3  # user lines kept per shape
VARIANTS = 3  # distinct parameter sets kept per shape (for partial indexes)
_WORDS = ("WHERE", "JOIN", "ORDER BY")


Spot = tuple[str, int]  # (relative path, line)


@dataclass(frozen=True)
class Variant:
    """One real set of parameters of a shape, the test that ran it and its user line."""

    params: Any
    nodeid: str
    site: Spot | None
    args: int  # fingerprint of the parameters


@dataclass
class Example:
    """One query shape: its first SQL text, and up to :data:`VARIANTS` parameter sets.

    The first set is explained; the others only where a partial index on a filtered
    column makes the values matter (``status = 'draft'`` served, ``'sold'`` not)."""

    alias: str
    sql: str
    variants: list[Variant] = field(default_factory=list)
    sites: list[Spot] = field(default_factory=list)


@dataclass
class Explained:
    """What one process (the only one, or one xdist worker) found."""

    findings: list[dict[str, Any]] = field(default_factory=list)
    keys: list[list[Any]] = field(default_factory=list)  # parallel to findings
    sites: list[list[list[Any]]] = field(default_factory=list)  # parallel: [[path, line]]
    shapes: int = 0  # distinct shapes recorded
    explained: int = 0  # statements explained
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    vendors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": self.findings,
            "keys": self.keys,
            "sites": self.sites,
            "shapes": self.shapes,
            "explained": self.explained,
            "errors": self.errors,
            "seconds": self.seconds,
            "vendors": self.vendors,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Explained:
        return cls(
            findings=list(data["findings"]),
            keys=[list(k) for k in data["keys"]],
            sites=[list(s) for s in data["sites"]],
            shapes=int(data["shapes"]),
            explained=int(data["explained"]),
            errors=list(data["errors"]),
            seconds=float(data["seconds"]),
            vendors=list(data["vendors"]),
        )


@dataclass
class Merged:
    """The controller's view: every process's :class:`Explained`, merged."""

    mode: str
    findings: list[Finding] = field(default_factory=list)
    shapes: int = 0
    explained: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    vendors: set[str] = field(default_factory=set)
    processes: int = 0
    unreported: list[str] = field(default_factory=list)  # workers that sent nothing
    _seen: dict[tuple[Any, ...], tuple[int, list[Spot]]] = field(default_factory=dict)

    def add(self, part: Explained) -> None:
        self.processes += 1
        self.shapes += part.shapes
        self.explained += part.explained
        self.errors.extend(part.errors)
        self.seconds += part.seconds
        self.vendors.update(part.vendors)
        for data, key, spots in zip(part.findings, part.keys, part.sites, strict=True):
            marker = tuple(tuple(k) if isinstance(k, list) else k for k in key)
            finding = Finding.from_dict(data, "indexes finding")
            sites = [(str(p), int(n)) for p, n in spots]
            if marker not in self._seen:
                self._seen[marker] = (len(self.findings), sites)
                self.findings.append(finding)
                continue
            # Found by two workers: the first line in file order leads, lines merged.
            at, known = self._seen[marker]
            first = self.findings[at]
            if (finding.path or "", finding.line or 0) < (first.path or "", first.line or 0):
                first, known, sites = finding, sites, known
            merged = list(dict.fromkeys([*known, *sites]))[:SITES]
            self._seen[marker] = (at, merged)
            self.findings[at] = _with_sites(first, merged)


class IndexesPlugin:
    """Registered by the session when the ``indexes`` gate is enabled (and not off)."""

    def __init__(self, config: pytest.Config, mode: str, small: list[str], root: Path) -> None:
        self.config = config
        self.mode = mode
        self.small = small
        self.root = root
        self.is_worker = hasattr(config, "workerinput")
        self.shapes: dict[tuple[str, str], Example] = {}
        self.capture_error: str | None = None
        self.done = False
        self.own: Explained | None = None
        self.merged = Merged(mode=mode)
        capture.keep_params(True)

    # ------------------------------------------------------------ collecting

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        recorder = capture.Recorder()
        try:
            capture.start(recorder)
        except capture.CaptureUnavailable as exc:
            self.capture_error = str(exc)
            return (yield)
        try:
            return (yield)
        finally:
            capture.stop(recorder)
            self._keep(item.nodeid, recorder.events)

    def _keep(self, nodeid: str, events: list[capture.QueryEvent]) -> None:
        for event in events:
            if event.many or event.site.ignored:
                continue
            if event.site.direct_test and not event.request:
                continue  # the test's own line asked Django: not the project's query
            text = event.sql
            head = text.lstrip()[:6].upper()
            if head not in ("SELECT", "UPDATE", "DELETE"):
                continue
            upper = text.upper()
            if not any(word in upper for word in _WORDS):
                continue
            key = (event.alias, sql.shape(text))
            example = self.shapes.get(key)
            if example is None:
                example = self.shapes[key] = Example(event.alias, text)
            frame = event.site.shown
            spot = None if frame is None else (relative(frame[0], self.root), frame[1])
            if spot is not None and spot not in example.sites and len(example.sites) < SITES:
                example.sites.append(spot)
            # Only parameters of the very text kept: one shape covers ``IN (...)`` lists
            # of every length, and each length has its own number of placeholders.
            if (
                text == example.sql
                and len(example.variants) < VARIANTS
                and all(v.args != event.args for v in example.variants)
            ):
                example.variants.append(Variant(event.params, nodeid, spot, event.args))

    # ------------------------------------------------------------ explaining

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
    ) -> Generator[None, Any, Any]:
        result = yield
        if fixturedef.argname == "django_db_setup" and not self.done:
            # Runs before the fixture's own teardown, which destroys the databases.
            fixturedef.addfinalizer(self._explain_before_teardown)
        return result

    def _explain_before_teardown(self) -> None:
        if not self.done:
            self._explain_once()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.done:
            self._explain_once()  # cut short (-x, Ctrl-C): session fixtures still set up
        assert self.own is not None
        if self.is_worker:
            workeroutput = getattr(self.config, "workeroutput", None)
            if isinstance(workeroutput, dict):
                workeroutput[WORKER_KEY] = self.own.to_dict()
            return
        if not _xdist_controller(self.config):
            self.merged.add(self.own)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", None) or {}
        data = output.get(WORKER_KEY)
        if isinstance(data, dict):
            self.merged.add(Explained.from_dict(data))
        else:
            worker = getattr(getattr(node, "gateway", None), "id", "?")
            self.merged.unreported.append(str(worker))

    def _explain_once(self) -> None:
        self.done = True
        start = time.perf_counter()
        own = Explained(shapes=len(self.shapes))
        if self.capture_error:
            own.errors.append(self.capture_error)
        if self.shapes and not _xdist_controller(self.config):
            try:
                with _unblocked(self.config):
                    explain_all(self.shapes, own, self.small, self.root, self.mode)
            except Exception as exc:  # fail closed: the gate could not look
                own.errors.append(f"{type(exc).__name__}: {exc}")
        own.seconds = time.perf_counter() - start
        self.own = own
        self.shapes.clear()


def _xdist_controller(config: pytest.Config) -> bool:
    """This is the xdist controller (its tests run in workers)."""
    return not hasattr(config, "workerinput") and config.pluginmanager.has_plugin("dsession")


@contextmanager
def _unblocked(config: pytest.Config) -> Iterator[None]:
    """Let the explain reach the test database whatever pytest-django's blocker says."""
    try:
        from pytest_django.plugin import blocking_manager_key
    except ImportError:  # pragma: no cover - pytest-django < 4.6
        yield
        return
    blocker = config.stash.get(blocking_manager_key, None)
    if blocker is None:
        yield
        return
    with blocker.unblock():
        yield


def explain_all(
    shapes: Mapping[tuple[str, str], Example],
    own: Explained,
    small: list[str],
    root: Path,
    mode: str,
) -> None:
    """Explain and judge every kept example; findings and errors go into ``own``."""
    from django.db import connections

    from pytest_django_gates.indexes import judge as judging
    from pytest_django_gates.indexes.plan import ExplainError, explain, indexes_of
    from pytest_django_gates.indexes.statement import parse
    from pytest_django_gates.migrations.analysis import project_labels

    models = judging.Models(project_labels(root, third_party=False), small)
    index_cache: dict[tuple[str, str], Any] = {}
    found: dict[tuple[Any, ...], tuple[judging.Missing, Variant, list[Spot]]] = {}
    vendors: set[str] = set()
    first_sql: dict[tuple[Any, ...], str] = {}
    for example in shapes.values():
        statement = parse(example.sql)
        if statement is None or not any(
            models.model(t) is not None for t in statement.tables.values()
        ):
            continue
        if not (statement.predicates or statement.joins or (statement.order and statement.limit)):
            continue
        connection = connections[example.alias]
        vendors.add(connection.vendor)

        def indexes(table: str, connection: Any = connection) -> Any:
            key = (connection.alias, table)
            if key not in index_cache:
                index_cache[key] = indexes_of(connection, table)
            return index_cache[key]

        try:
            variants = example.variants[:1]
            if judging.values_matter(statement, models, indexes):
                variants = example.variants
            for variant in variants:
                plan = explain(connection, example.sql, variant.params, statement.tables)
                own.explained += 1
                for m in judging.judge(statement, plan, models, indexes):
                    key = (example.alias, *m.key)
                    if key not in found:
                        sites = [variant.site] if variant.site else []
                        found[key] = (m, variant, sites)
                        first_sql[key] = example.sql
                    sites = found[key][2]
                    # Where values matter, only the lines that ran these values.
                    for spot in example.sites if len(variants) == 1 else ():
                        if spot not in sites and len(sites) < SITES:
                            sites.append(spot)
        except ExplainError as exc:
            own.errors.append(f"EXPLAIN failed for {sql.short(example.sql, 120)}: {exc}")
            continue
    own.vendors = sorted(vendors)
    severity = "error" if mode == "fail" else "warning"
    for key, (m, variant, sites) in found.items():
        vendor = connections[key[0]].vendor
        own.findings.append(
            _finding(m, variant, sites, vendor, root, severity, first_sql[key]).to_dict()
        )
        own.keys.append(list(key))
        own.sites.append([list(spot) for spot in sites])


_RUN_AT = "  run at "


def _with_sites(finding: Finding, sites: list[Spot]) -> Finding:
    lines = [line for line in finding.message.split("\n") if not line.startswith(_RUN_AT)]
    if sites:
        lines.append(_RUN_AT + ", ".join(f"{p}:{n}" for p, n in sites))
    return replace(finding, message="\n".join(lines))


def _finding(
    missing: Any,
    variant: Variant,
    sites: list[Spot],
    vendor: str,
    root: Path,
    severity: str,
    text: str,
) -> Finding:
    from pytest_django_gates.indexes.judge import fix

    model = missing.model
    fields = ", ".join(f"{model._meta.object_name}.{f.lstrip('-')}" for f in missing.fields)
    what = {
        "DJG120": "no index serves this filter: the planner reads every row",
        "DJG121": "no index serves this join: each joined row is found by scanning the table",
        "DJG122": "no index in this order: the whole table is read and sorted for LIMIT",
    }[missing.code]
    lines = [
        f"missing index on {fields} ({model._meta.label}, table {missing.table}): "
        f"the query {missing.why}; {what}",
        f"  {brief(text)}",
    ]
    if missing.note:
        lines.append(f"  {missing.note}")
    path = line = None
    if sites:
        path, line = sites[0]
        lines.append(_RUN_AT + ", ".join(f"{p}:{n}" for p, n in sites))
    return Finding(
        code=missing.code,
        severity="error" if severity == "error" else "warning",
        message="\n".join(lines),
        object=variant.nodeid,
        path=path,
        line=line,
        hint=fix(missing, vendor, root),
    )


_SELECT_LIST = re.compile(
    r"^\s*SELECT\s+(?:DISTINCT\s+)?(.*?)\s+FROM\s+", re.IGNORECASE | re.DOTALL
)


def brief(text: str) -> str:
    """The statement's shape with its select list elided: what it reads and how."""
    shaped = sql.shape(text)
    match = _SELECT_LIST.match(shaped)
    if match is not None and '"' in match.group(1):
        shaped = shaped[: match.start(1)] + "…" + shaped[match.end(1) :]
    return sql.short(shaped, 200)
