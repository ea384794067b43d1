"""The call-path walk is remembered by the frames it crossed (issue 21, cost).

``Classifier.walk`` runs for every statement. What it finds depends on the frames' code
objects and instructions alone, so a walk over the same frames is looked up instead of
done again (83% of the DRF suite's statements). These tests check that the looked-up
answer is the one a fresh walk gives, and that the walks that read more than the frames'
code (numbering the test's calls for writes, reading a template node being rendered)
are never looked up.
"""

from __future__ import annotations

import pytest

from tests.queries.test_queries_options import PYPROJECT, SETTINGS

SETTINGS_WITH_TEMPLATES = (
    SETTINGS
    + """
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates"}]
"""
)

# The code under test: where the walks start.
CODE = """
import sys

from pytest_django_gates.queries import capture


def remembered_and_fresh():
    return _look(sys._getframe())  # this frame stands still while _look walks it


def _look(frame):
    # From one live frame: its chain, the walk remembered for it, a fresh walk, the Site.
    classifier = capture._classifier
    unknown = classifier._chain(frame) is None
    classifier.walk(frame)  # every code on the way is known from here on
    chain = classifier._chain(frame)
    site, _fresh = classifier.walk(frame)
    return unknown, chain, classifier._walks.get(chain), classifier._walk(frame, calls=False), site


def walk_here(calls=False):
    return capture._classifier.walk(sys._getframe(), calls=calls)


class Probe:
    # Read by a template: records what the walk sees from inside its rendering.

    def __init__(self):
        self.chains = []
        self.sites = []

    def chain(self):
        self.chains.append(capture._classifier._chain(sys._getframe()))
        return ""

    def walk(self):
        self.sites.append(capture._classifier.walk(sys._getframe())[0])
        return ""
"""

TEST = """
import pytest
from django.contrib.auth.models import Group
from django.template import Context, Template

from code_here import Probe, remembered_and_fresh, walk_here
from pytest_django_gates.queries import capture


@pytest.fixture
def classifier(db):
    with capture.Recorder():
        Group.objects.exists()  # installs the capture
    return capture._classifier


def test_a_remembered_walk_finds_what_a_fresh_walk_finds(classifier):
    results = [remembered_and_fresh() for _ in range(3)]  # one line: the same frames
    unknown = [r[0] for r in results]
    assert unknown == [True, False, False]
    chains = {r[1] for r in results}
    assert len(chains) == 1 and None not in chains
    for _unknown, _chain, remembered, fresh, site in results:
        assert remembered == fresh
    sites = [r[4] for r in results]
    assert sites[0] == sites[1] == sites[2]
    assert sites[0].frames[0][2] == "remembered_and_fresh"
    assert sites[0].frames[1][2].startswith("test_a_remembered_walk")


def test_two_lines_are_two_walks(classifier):
    one = remembered_and_fresh()
    two = remembered_and_fresh()
    assert one[1] != two[1]
    assert one[2] == one[3] and two[2] == two[3]
    assert one[4].key != two[4].key


def test_the_walks_go_when_the_codes_they_name_go(classifier, monkeypatch):
    from pytest_django_gates.queries import stack

    remembered_and_fresh()
    assert classifier._walks
    # The next code object met clears the code cache: the ids keying the walks could
    # then be reused by new code objects.
    before = len(classifier._codes)
    monkeypatch.setattr(stack, "MAX_CODES", before)
    exec(compile("walk_here()", "made_here.py", "exec"), {"walk_here": walk_here})
    assert len(classifier._codes) < before  # cleared, then the few codes of this walk
    assert not classifier._walks


def test_writes_number_each_call_of_the_test_whatever_is_remembered(classifier):
    with capture.Recorder():
        calls = [walk_here(calls=True)[0].call for _ in range(3)]
    # Three calls from one test line in a loop are three calls (DJG108), though their
    # frames have the same code and instructions.
    assert len(set(calls)) == 3 and 0 not in calls


def test_a_walk_through_a_template_node_is_never_remembered(classifier):
    template = Template("{{ probe.walk }}{{ probe.chain }}")
    probe = Probe()
    for _ in range(2):  # the second time, every frame's code is known to the walk
        template.render(Context({"probe": probe}))
    assert probe.chains[1] is None
    assert probe.sites[0].template == probe.sites[1].template == ("<unknown source>", 1)
"""


def test_walks_are_remembered_by_the_frames_they_crossed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(gates_settings=SETTINGS_WITH_TEMPLATES, code_here=CODE, test_walks=TEST)
    pytester.makefile(".toml", pyproject=PYPROJECT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
