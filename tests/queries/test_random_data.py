"""Tests with random data keep their query count from run to run (queries/seeding.py)."""

from __future__ import annotations

import json
import random

import pytest

from pytest_django_gates.queries.seeding import seed_random
from tests.queries.test_queries_options import PYPROJECT, SETTINGS

# How many groups the test makes is random (1 to 200) and it queries each one: without
# seeding, two runs almost never run the same number of queries.
RANDOM_TESTS = """
import random

import faker
import pytest
from django.contrib.auth.models import Group

@pytest.mark.django_db
def test_random_rows():
    names = faker.Faker()
    for _ in range(random.randint(1, 200)):
        Group.objects.create(name=names.pystr(max_chars=40) + str(random.random()))
    for group in Group.objects.all():
        Group.objects.filter(pk=group.pk).exists()
"""


def _counts(project: pytest.Pytester, *args: str) -> dict[str, int]:
    result = project.runpytest_subprocess(
        "--django-gates", "--gates-query-baseline=q.json", "--gates-n-plus-one=off", *args
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    counts: dict[str, int] = json.loads((project.path / "q.json").read_text())["tests"]
    return counts


def test_a_test_with_random_data_runs_the_same_queries_every_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_GATES_GATES", "queries")
    pytester.makepyfile(gates_settings=SETTINGS, test_random=RANDOM_TESTS)
    pytester.makefile(".toml", pyproject=PYPROJECT)
    first = _counts(pytester, "--gates-update-baseline")
    # the baseline holds: serially and under xdist, run after run
    for args in ((), ("-n", "2"), ()):
        checked = pytester.runpytest_subprocess(
            "--django-gates", "--gates-query-baseline=q.json", "--gates-n-plus-one=off", *args
        )
        assert checked.ret == pytest.ExitCode.OK, checked.stdout.str()
    assert _counts(pytester, "--gates-update-baseline") == first
    # turned off, the counts follow the random data (two runs of three differ)
    monkeypatch.setenv("DJANGO_GATES_QUERIES_SEED_RANDOM", "false")
    unseeded = [_counts(pytester, "--gates-update-baseline") for _ in range(3)]
    assert len({c["test_random.py::test_random_rows"] for c in unseeded}) > 1


def test_the_seed_is_the_node_ids_and_reaches_faker_and_factory_boy() -> None:
    faker = pytest.importorskip("faker")
    factory_random = pytest.importorskip("factory.random")
    seed_random("tests/test_a.py::test_x")
    drawn = (random.random(), faker.Faker().pystr(), factory_random.randgen.random())
    seed_random("tests/test_b.py::test_y")
    other = (random.random(), faker.Faker().pystr(), factory_random.randgen.random())
    seed_random("tests/test_a.py::test_x")
    assert (random.random(), faker.Faker().pystr(), factory_random.randgen.random()) == drawn
    assert all(a != b for a, b in zip(drawn, other, strict=True))


def test_the_seed_reaches_model_bakery() -> None:
    """model_bakery draws its values from a Random() of its own (seen on a real suite,
    EvaP: a test's query count moved between runs with it)."""
    pytest.importorskip("django.db.models")  # model_bakery imports the ORM first
    random_gen = pytest.importorskip("model_bakery.random_gen")
    seed_random("tests/test_a.py::test_x")
    drawn = [random_gen.baker_random.random() for _ in range(3)]
    seed_random("tests/test_b.py::test_y")
    other = [random_gen.baker_random.random() for _ in range(3)]
    seed_random("tests/test_a.py::test_x")
    assert [random_gen.baker_random.random() for _ in range(3)] == drawn
    assert other != drawn
