"""The per-session gate machinery, registered only under ``--django-gates``.

Without the flag this object is never registered, so none of these hooks run.
With pytest-xdist each worker judges its own tests and attaches the outcome to
the test report (``report.django_gates``); the controller collects outcomes
from the reports, runs the session gates once, writes the report and the
baseline. Outcomes arrive in the order tests finish (with xdist, whichever
worker reports first): nothing written from them depends on that order (see
:mod:`pytest_django_gates.gates.queries`; the baseline is written sorted).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates import completeness, render, shards
from pytest_django_gates.config import ConfigError, GatesConfig
from pytest_django_gates.gates import GateContext, run_gate
from pytest_django_gates.gates.queries import EXTRA_KEY, Collected
from pytest_django_gates.markers import query_marks
from pytest_django_gates.options import PYTEST_GATES
from pytest_django_gates.queries import baseline, capture, fetch_mode, scaling, seeding
from pytest_django_gates.queries.evaluate import Outcome, Settings, TestSpec, evaluate
from pytest_django_gates.report import GateResult, Report, WriteError

OUTCOME_KEY = pytest.StashKey[Outcome]()
CAPTURE_ERROR_KEY = pytest.StashKey[str]()
REPORT_ATTR = "django_gates"
# On a call report whose test could not be checked: why (travels from xdist workers).
ERROR_ATTR = "django_gates_error"

# Gates that run once per session, on the controller, after the tests.
SESSION_GATES = tuple(g for g in PYTEST_GATES if g != "queries")


class GatesSession:
    def __init__(self, config: pytest.Config, gates_config: GatesConfig) -> None:
        self.config = config
        self.gates_config = gates_config
        self.root = Path(config.rootpath)
        self.is_worker = hasattr(config, "workerinput")
        self.enabled = set(gates_config["gates"])
        allow = list(gates_config["queries.allow"])
        self.settings = Settings(
            mode=gates_config["queries.n_plus_one"],
            threshold=gates_config["queries.threshold"],
            allow=allow,
            root=self.root,
            write_loops=gates_config["queries.write_loops"],
            non_atomic_writes=gates_config["queries.non_atomic_writes"],
            input_loops=gates_config["queries.input_loops"],
        )
        self.update_baseline: bool = gates_config["queries.update_baseline"]
        self.baseline_path = gates_config.path("queries.baseline")
        if self.update_baseline and self.baseline_path is None:
            raise ConfigError(
                "--gates-update-baseline needs a baseline file: pass --gates-query-baseline PATH "
                "or set baseline in [tool.django-gates.queries]"
            )
        self.shard = shards.of(gates_config["run.shard"])
        self.baseline = baseline.Baseline()
        # Why the baseline being updated could not be read (it is rebuilt), else "".
        self.baseline_corrupt = ""
        if self.baseline_path is not None:
            if not self.baseline_path.exists() and not self.update_baseline:
                raise ConfigError(
                    f"query baseline {self.baseline_path} does not exist; create it with "
                    "--gates-update-baseline"
                )
            try:
                self.baseline = baseline.load(
                    self.baseline_path, baseline.update_command(gates_config)
                )
            except baseline.CorruptBaseline as exc:
                if not self.update_baseline:
                    raise
                self.baseline_corrupt = exc.problem
        pyproject = gates_config.pyproject
        self.collected = Collected(
            allow=allow,
            allow_source=_relative(pyproject, self.root) if pyproject else "",
        )
        self.results: list[GateResult] = []
        self.report_path: Path | None = gates_config.path("report")
        self.write_errors: list[str] = []
        self.queries_on = "queries" in self.enabled
        self.fetch_raise = self.queries_on and gates_config["queries.fetch_mode"] == "raise"
        self.seed_random = self.queries_on and bool(gates_config["queries.seed_random"])
        if self.fetch_raise:
            fetch_mode.check_available()
        hours = float(gates_config["queries.clock_shift"])
        if hours:
            from pytest_django_gates.queries import clock

            clock.shift(hours)  # for the whole run (queries/clock.py)
        # Controller bookkeeping, for "did every gate look at every test?".
        self.finished: set[str] = set()
        self.checked: set[str] = set()
        self.crashed: list[str] = []
        self.collection_errors: list[str] = []
        self.baseline_skipped = False
        self.items_seen = 0  # when collection itself was cut short, testscollected is 0
        capture.configure(
            list(gates_config["queries.ignore_callers"]),
            test_files=list(config.getini("python_files")),
            root=self.root,
        )

    # ------------------------------------------------------------------ per test

    def _spec(self, item: pytest.Item) -> TestSpec:
        marks = query_marks(item)
        path, lineno, _ = item.location
        return TestSpec(
            nodeid=item.nodeid,
            path=path,
            line=(lineno + 1) if lineno is not None else None,
            budget=marks.budget,
            budget_using=marks.using,
            allow_reason=marks.allow_reason,
            baseline=None if self.update_baseline else self.baseline.counts.get(item.nodeid),
            baseline_repeated=self.baseline.repeated.get(item.nodeid),
            baseline_clock=self.baseline.clock.get(item.nodeid),
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        # Before the fixtures and setUpClass make the test's data (queries/seeding.py).
        if self.seed_random:
            seeding.seed_random(item.nodeid)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        if not self.queries_on:
            return (yield)
        spec = self._spec(item)
        recorder = capture.Recorder()
        try:
            capture.start(recorder)
        except capture.CaptureUnavailable as exc:
            # Nothing is patched: the test runs unchecked and the gate is an error.
            item.stash[CAPTURE_ERROR_KEY] = str(exc)
            return (yield)
        scaled = scaling.ScaledRun.of(item)  # @pytest.mark.query_scaling
        if scaled is not None:
            # The smaller scale runs (recorded apart) and is rolled back, then the larger
            # scale's rows are built; ``recorder`` records only the larger run's body.
            capture.stop(recorder)
            try:
                scaled.start(fetch_raise=self.fetch_raise)
            except BaseException as exc:
                judge = not isinstance(exc, pytest.skip.Exception)
                self._finish(item, spec, recorder, None, passed=False, judge=judge)
                raise
            capture.start(recorder)
        # The test's own transaction (django_db) is open by now: its depth is not the code's.
        spec = dataclasses.replace(spec, depths=capture.open_atomic_blocks())
        undo_fetch_mode = fetch_mode.set_raise() if self.fetch_raise else None
        try:
            result = yield
        except BaseException as exc:
            judge = not isinstance(exc, pytest.skip.Exception)
            self._finish(
                item, spec, recorder, undo_fetch_mode, passed=False, judge=judge, scaled=scaled
            )
            raise
        outcome = self._finish(
            item, spec, recorder, undo_fetch_mode, passed=True, judge=True, scaled=scaled
        )
        if outcome is not None and outcome.failures:
            pytest.fail("\n\n".join(outcome.failures), pytrace=False)
        return result

    def _finish(
        self,
        item: pytest.Item,
        spec: TestSpec,
        recorder: capture.Recorder,
        undo_fetch_mode: Callable[[], None] | None,
        *,
        passed: bool,
        judge: bool,
        scaled: scaling.ScaledRun | None = None,
    ) -> Outcome | None:
        """Stop recording, restore the fetch mode and (unless skipped) judge the test."""
        capture.stop(recorder)
        if undo_fetch_mode is not None:
            undo_fetch_mode()
        try:
            if scaled is not None:
                scaled.close()  # roll the larger scale's rows back
            if not judge:
                return None
            outcome = evaluate(spec, recorder.events, self.settings, passed=passed)
            if scaled is not None and passed:
                scaled.judge(outcome, recorder.events, self.root)
        finally:
            capture.forget_sources()
        item.stash[OUTCOME_KEY] = outcome
        return outcome

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.when == "call":
            outcome = item.stash.get(OUTCOME_KEY, None)
            if outcome is not None:
                setattr(report, REPORT_ATTR, outcome.to_dict())
            error = item.stash.get(CAPTURE_ERROR_KEY, None)
            if error is not None:
                setattr(report, ERROR_ATTR, error)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker:
            return
        if report.when == "teardown":
            self.finished.add(report.nodeid)
        elif report.when not in ("setup", "call") and report.failed:
            # pytest-xdist reports a test whose worker died with when="???".
            self.crashed.append(report.nodeid)
        if report.when != "call":
            return
        data = getattr(report, REPORT_ATTR, None)
        if data:
            self.collected.add(Outcome.from_dict(data))
            self.checked.add(report.nodeid)
            self.collected.unchecked.pop(report.nodeid, None)
        elif not report.skipped and report.nodeid not in self.checked:
            # Subtest reports (pytest 9, unittest subTest) share the test's node id and
            # carry no outcome of their own: the test's own call report does.
            self.collected.unchecked.setdefault(report.nodeid, None)
            error = getattr(report, ERROR_ATTR, None)
            if error:
                self.collected.errors.add(str(error))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """A shard runs its group of the tests left after every other selection (-k, -m):
        pytest-split's when it is splitting (--splits), else this plugin's even split by
        node id (see :mod:`pytest_django_gates.shards`)."""
        if self.shard is None or config.getoption("splits", None):
            return
        kept, dropped = shards.select(items, self.shard)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept
        self.items_seen = len(kept)

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        self.items_seen += 1

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not self.is_worker and report.failed:
            self.collection_errors.append(report.nodeid or "<collection>")

    # --------------------------------------------------------------- session end

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.is_worker:
            return
        results: list[GateResult] = []
        if self.queries_on:
            ctx = GateContext(
                config=self.gates_config,
                rootdir=self.root,
                in_pytest=True,
                extra={EXTRA_KEY: self.collected},
            )
            if session.config.option.collectonly:
                results.append(
                    GateResult(
                        name="queries", status="skipped", summary="--collect-only: no test ran"
                    )
                )
            else:
                results.append(run_gate("queries", ctx)[0])
        for name in SESSION_GATES:
            if name not in self.enabled:
                continue
            if self.shard is not None and name not in shards.SHARDED_GATES:
                continue  # migrations, deploy: not the tests' business, run once elsewhere
            if self.shard is not None and name == "coverage":
                results.append(shards.not_judged_coverage(self.shard))
                continue
            result = self._session_gate(name, session)
            if result is not None:
                results.append(result)
        incomplete = None
        if not session.config.option.collectonly:
            incomplete = completeness.incomplete(
                exitstatus=int(exitstatus),
                collected=session.testscollected or self.items_seen,
                finished=len(self.finished),
                stopped=session.shouldstop or session.shouldfail,
                crashed=sorted(self.crashed),  # not in the order the workers died in
                collection_errors=self.collection_errors,
            )
        if incomplete is not None:
            results = [completeness.mark_incomplete(r, incomplete) for r in results]
        self.results = results
        self.baseline_skipped = incomplete is not None
        if self.update_baseline and self.baseline_path is not None and incomplete is None:
            try:
                baseline.write(self.baseline_path, self.baseline, self._baseline_counts())
            except WriteError as exc:
                self.write_errors.append(f"--gates-update-baseline: {exc}")
        if self.report_path is not None:
            try:
                Report(gates=tuple(results), shard=self._shard_stamp(session)).write(
                    self.report_path
                )
            except WriteError as exc:
                self.write_errors.append(f"--gates-report: {exc}")
        if self.write_errors:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        if session.exitstatus == 0 and any(r.status in ("failed", "error") for r in results):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _shard_stamp(self, session: pytest.Session) -> dict[str, Any] | None:
        """The ``shard`` object of a shard's report: which shard, and the counts the merge
        sums (see :mod:`pytest_django_gates.shards`)."""
        if self.shard is None:
            return None
        outcomes = self.collected.outcomes
        stamp: dict[str, Any] = {
            "index": self.shard.index,
            "total": self.shard.total,
            "tests": int(session.testscollected),
            "queries": {"tests": len(outcomes), "queries": sum(o.count for o in outcomes)},
        }
        if self.update_baseline and not self.baseline_skipped:
            # What this shard adds to the query baseline: django-gates report --shards N
            # --update-query-baseline writes one file from every shard's counts.
            counted = self._baseline_counts()
            stamp["query_counts"] = dict(sorted(counted.counts.items()))
            stamp["query_repeated"] = dict(sorted(counted.repeated.items()))
        return stamp

    def _baseline_counts(self) -> baseline.Baseline:
        ran = [o for o in self.collected.outcomes if o.count]
        counts = {o.nodeid: o.count for o in ran}
        if self.settings.mode == "off":
            # N+1s were not looked for: how many queries were repeated is unknown.
            return baseline.Baseline(counts=counts)
        return baseline.Baseline(counts=counts, repeated={o.nodeid: o.repeated for o in ran})

    def _session_gate(self, name: str, session: pytest.Session) -> GateResult | None:
        """Run one of the once-per-session gates (migrations, deploy, coverage)."""
        extra: dict[str, Any] = {"pytest_session": session}
        ctx = GateContext(config=self.gates_config, rootdir=self.root, in_pytest=True, extra=extra)
        try:
            return run_gate(name, ctx)[0]
        except ConfigError as exc:
            return GateResult(name=name, status="error", summary=f"configuration error: {exc}")

    # ------------------------------------------------------------------- output

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        cfg = self.gates_config
        lines = [f"django-gates: on (config: {cfg.pyproject or 'no pyproject.toml'})"]
        if config.get_verbosity() < 1:
            # Every option and where its value came from: only with -v (about 80 lines).
            changed = [k for k in cfg.options if cfg.source(k) != "default"]
            lines[0] += f"; {len(changed)} option(s) set, -v lists every one"
            return lines
        for key in cfg.options:
            value = cfg.values[key]
            if isinstance(value, list) and value and isinstance(value[0], dict):
                shown = f"{len(value)} entr{'y' if len(value) == 1 else 'ies'}"
            else:
                shown = repr(value)
            lines.append(f"  {key} = {shown}  [{cfg.source(key)}]")
        return lines

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker or not self.results:
            return
        tr = terminalreporter
        tr.section("django-gates")
        for gate in self.results:
            markup = {"passed": {"green": True}, "skipped": {"yellow": True}}.get(
                gate.status, {"red": True, "bold": True}
            )
            tr.write_line(render.gate_line(gate), **markup)
            report = None
            if self.report_path is not None:
                report = _relative(self.report_path, Path(os.getcwd()))
            for line in render.terminal_findings(gate, report):
                tr.write_line(line)
        for problem in self.write_errors:
            tr.write_line(f"ERROR: {problem}", red=True, bold=True)
        if self.report_path is not None and not any(
            p.startswith("--gates-report") for p in self.write_errors
        ):
            tr.write_line(f"report written to {_relative(self.report_path, Path(os.getcwd()))}")
        baseline_failed = any(p.startswith("--gates-update-baseline") for p in self.write_errors)
        if self.update_baseline and self.baseline_path is not None and not baseline_failed:
            if self.baseline_skipped:
                tr.write_line(
                    f"query baseline NOT updated (the run was incomplete): {self.baseline_path}"
                )
            elif self.baseline_corrupt:
                tr.write_line(
                    f"query baseline rebuilt from this run's counts: {self.baseline_path} "
                    f"(the old file was unusable: {self.baseline_corrupt})"
                )
            else:
                tr.write_line(f"query baseline updated: {self.baseline_path}")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
