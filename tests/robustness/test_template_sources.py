"""Template sources under the query gate: an N+1 rendered by a template sits next to a
template with a syntax error, or its own file is changed (non-UTF-8, a syntax error) or
removed after it rendered and before the report is written. The gate attributes the
finding to the template line from what Django recorded while rendering, so the run must
report it as usual (no traceback, no half-written report)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import gate
from tests.robustness.support import no_leftovers

SETTINGS = """
SECRET_KEY = "x"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": ["templates"]}]
"""

PYPROJECT = """
[tool.pytest.ini_options]
DJANGO_SETTINGS_MODULE = "gates_settings"
pythonpath = ["."]
"""

VIEWS = """
from django.contrib.auth.models import Group
from django.shortcuts import render


def groups(request):
    return render(request, "groups.html", {"groups": Group.objects.all()})
"""

GROUPS_HTML = """<ul>
{% for group in groups %}
  <li>{{ group.name }}: {% for p in group.permissions.all %}{{ p.codename }} {% endfor %}</li>
{% endfor %}
</ul>
"""

TEST = """
import pathlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory

from views import groups

AFTER = "@AFTER@"


@pytest.mark.django_db
def test_groups():
    perms = list(Permission.objects.all()[:2])
    for i in range(3):
        Group.objects.create(name=f"g{i}").permissions.set(perms)
    response = groups(RequestFactory().get("/"))
    assert b"g2" in response.content
    template = pathlib.Path("templates/groups.html")
    if AFTER == "remove":
        template.unlink()
    elif AFTER == "non-utf-8":
        template.write_bytes(b"\\xff\\xfe{% for %}\\xc3\\n")
"""


@pytest.mark.parametrize("after", ["nothing", "non-utf-8", "remove"])
def test_template_n_plus_one_is_reported_whatever_happens_to_the_templates(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, after: str
) -> None:
    monkeypatch.setenv("DJANGO_GATES_GATES", "queries")
    pytester.makepyfile(
        gates_settings=SETTINGS, views=VIEWS, test_views=TEST.replace("@AFTER@", after)
    )
    pytester.makefile(".toml", pyproject=PYPROJECT)
    templates = pytester.path / "templates"
    templates.mkdir()
    (templates / "groups.html").write_text(GROUPS_HTML, encoding="utf-8")
    # A sibling template with a syntax error (and non-UTF-8 bytes): never rendered.
    (templates / "broken.html").write_bytes(b"{% for x in %}\xff{% endif %}\n{{ \n")
    out = pytester.path / "out"
    out.mkdir()
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "--django-gates", "--gates-report", str(out / "report.json")
    )
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback (most recent call last)" not in output, output[-4000:]
    assert "INTERNALERROR" not in output, output[-4000:]
    no_leftovers(out)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    findings = gate(report, "queries")["findings"]
    assert [(f["code"], f["path"], f["line"]) for f in findings] == [
        ("DJG101", "templates/groups.html", 3)
    ], findings
    assert result.ret == 1, output[-4000:]
    result.assert_outcomes(failed=1)  # the N+1 fails the test that ran it (mode "fail")
    assert "DJG101 [error] test_views.py::test_groups (templates/groups.html:3)" in output
