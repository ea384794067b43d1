"""A long test's queries share their SQL text and call path (issue 24 §3).

The query capture keeps every event of the running test; a backfill of a million
statements made a million copies of the same text and call path (about 1.1 KB an event,
``benchmarks/bench_memory.py``). Equal texts and sites are one object per recording, an
event has no ``__dict__``, and what tells two events apart (their parameters) is kept.
The size itself is measured in ``benchmarks/bench_memory.py``, not asserted here.
(Writes from a loop written in the test module itself are each a new call of the test,
``Site.call``, which the DJG108 rule counts: their call paths differ and are not shared.)
"""

from __future__ import annotations

import pytest

from tests.queries.test_queries_options import PYPROJECT, SETTINGS

# The code under test: a data backfill, one UPDATE per id.
JOBS = """
from django.contrib.auth.models import Group


def backfill(n):
    for pk in range(n):
        Group.objects.filter(pk=pk).update(name=f"g{pk}")
"""

TEST = """
import sys

import pytest
from django.contrib.auth.models import Group

from jobs import backfill
from pytest_django_gates.queries import capture


@pytest.mark.django_db
def test_a_loop_shares_its_text_and_call_path():
    with capture.Recorder() as recorder:
        backfill(60)
    events = recorder.events
    assert len(events) == 60
    assert len({id(e.sql) for e in events}) == 1
    assert len({id(e.site) for e in events}) == 1, (events[0].site, events[1].site)
    assert len({e.values for e in events}) == 60  # the parameters still tell them apart
    assert len({e.args for e in events}) == 60
    assert not hasattr(events[0], "__dict__")


@pytest.mark.django_db
def test_a_new_recording_starts_afresh():
    with capture.Recorder() as first:
        backfill(2)
    with capture.Recorder() as second:
        backfill(2)
    assert first.events[0].sql == second.events[0].sql
    assert first.events[0].sql is not second.events[0].sql  # nothing kept in between
    recordings = []
    for recorder in (capture.Recorder(), capture.Recorder()):
        with recorder:
            Group.objects.filter(pk=1).exists()  # a read on one line: one call path
        recordings.append(recorder.events[0].site)
    assert recordings[0] == recordings[1]
    assert recordings[0] is not recordings[1]
    assert hash(recordings[0]) == hash(recordings[1])


@pytest.mark.django_db
def test_transaction_control_is_not_recorded():
    # Every reader of the events leaves SAVEPOINT / RELEASE out (budget.counted): they
    # are not walked, judged nor kept; the statements inside the block are.
    from django.db import connection, transaction
    from pytest_django_gates.queries import sql

    with capture.Recorder() as recorder:
        with transaction.atomic():
            with transaction.atomic():
                Group.objects.create(name="in a savepoint")
    assert [e.sql.split()[0] for e in recorder.events] == ["INSERT"]
    ops = connection.ops
    for statement in (
        ops.savepoint_create_sql("s1_x1"),
        ops.savepoint_commit_sql("s1_x1"),
        ops.savepoint_rollback_sql("s1_x1"),
        "BEGIN",
    ):
        assert sql.transaction_control(statement), statement
        assert sql.is_transaction_control(statement), statement
    for statement in ('SELECT "savepoint" FROM t', "SET search_path TO x", "UPDATE t SET a = 1"):
        assert not sql.transaction_control(statement), statement


@pytest.mark.django_db
def test_one_path_is_new_once_per_recording():
    with capture.Recorder():
        backfill(1)  # installs the capture
    classifier = capture._classifier
    frame = sys._getframe()
    for _ in range(2):
        with capture.Recorder():
            walks = [classifier.walk(frame) for _ in range(3)]  # one line, one path
        assert [fresh for _site, fresh in walks] == [True, False, False]
        assert walks[1][0] is walks[0][0] and walks[2][0] is walks[0][0]
"""


def test_events_of_one_recording_share_text_and_site(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(gates_settings=SETTINGS, jobs=JOBS, test_sharing=TEST)
    pytester.makefile(".toml", pyproject=PYPROJECT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
