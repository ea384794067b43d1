"""The documentation: every finding code has its entry, every link to one resolves, and
the renderers show the link (text, Markdown, GitHub annotations, SARIF's ``helpUri``)."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from pathlib import Path

import django
import pytest

from pytest_django_gates import render
from pytest_django_gates.docs_links import DJANGO_CHECKS_ANCHOR, DOCS_URL, code_url, locate
from pytest_django_gates.report import Finding, GateResult, Report

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SOURCE = ROOT / "pytest_django_gates"

_HEADING = re.compile(r"^(#{1,6})\s+(?P<text>.*?)(?:\s*\{[^}]*#(?P<id>[\w-]+)[^}]*\})?\s*$")
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
_FENCE = re.compile(r"^\s*(```|~~~)")


def slugify(text: str) -> str:
    """The anchor MkDocs (Python-Markdown's ``toc``) gives a heading without ``{#id}``."""
    value = unicodedata.normalize("NFKD", text.replace("`", ""))
    value = value.encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def _prose(page: Path) -> list[str]:
    """The page's lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in page.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def headings(page: Path, level: int | None = None) -> dict[str, str]:
    """anchor -> heading text, for the headings of ``page`` (of one level, if given)."""
    found: dict[str, str] = {}
    for line in _prose(page):
        match = _HEADING.match(line)
        if match and (level is None or len(match.group(1)) == level):
            text = match.group("text")
            found[match.group("id") or slugify(text)] = text.strip("`")
    return found


@cache
def anchors(page: Path) -> frozenset[str]:
    return frozenset(headings(page))


def page_of(url: str) -> tuple[Path, str]:
    """The docs page (``docs/…/x.md``) and the anchor a documentation URL points at."""
    assert url.startswith(DOCS_URL), url
    path, _, fragment = url[len(DOCS_URL) :].partition("#")
    path = path.strip("/")
    for candidate in (DOCS / f"{path}.md", DOCS / path / "index.md"):
        if candidate.is_file():
            return candidate, fragment
    raise AssertionError(f"{url}: no page docs/{path}.md")


def _sources() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(SOURCE.rglob("*.py"))}


def emitted_codes() -> set[str]:
    """Every fixed finding code written in the package's sources."""
    codes: set[str] = set()
    for path, text in _sources().items():
        codes.update(re.findall(r"\bDJG\d{3}\b", text))
        codes.update(re.findall(r"[\"']((?:tests|pip-audit):[a-z][a-z-]*)[\"']", text))
        if path.is_relative_to(SOURCE / "deploy"):
            # Django's check ids the deploy gate locates (or fixes) by name.
            codes.update(re.findall(r"[\"']([a-z_]+\.[CEWI]\d{3})[\"']", text))
    # Fixed names of families built with an f-string (``code=f"ruff:{rule}"``).
    for module, names in {"ruff": ("invalid-syntax",), "mypy": ("misc", "note")}.items():
        text = (SOURCE / "gates" / f"{module}.py").read_text(encoding="utf-8")
        for name in names:
            assert f'"{name}"' in text, f"{module}.py no longer emits {module}:{name}"
            codes.add(f"{module}:{name}")
    return codes


def django_security_checks() -> set[str]:
    """The ``security.*`` ids of the installed Django's own checks."""
    checks = Path(django.__file__).parent / "core" / "checks" / "security"
    found: set[str] = set()
    for path in checks.glob("*.py"):
        found.update(re.findall(r"id=[\"'](security\.[CEWI]\d{3})[\"']", path.read_text()))
    return found


# -------------------------------------------------------------------- every code


def test_the_sources_emit_the_codes_this_test_looks_for() -> None:
    codes = emitted_codes()
    assert {"DJG101", "DJG201", "DJG301", "DJG401", "DJG120"} <= codes
    assert {"tests:failed", "tests:no-tests", "pip-audit:unaudited"} <= codes
    assert {"security.W018", "security.E026", "caches.E001"} <= codes


@pytest.mark.parametrize("code", sorted(emitted_codes()))
def test_every_code_the_sources_emit_has_its_entry(code: str) -> None:
    url = code_url(code)
    assert url, f"{code}: no documentation page (pytest_django_gates/docs_links.py)"
    page, fragment = page_of(url)
    assert fragment in anchors(page), (
        f"{code}: {page.relative_to(ROOT)} has no heading with the anchor #{fragment}; "
        f"add '## {code}'" + (f" {{#{fragment}}}" if not re.match(r"^DJG\d{3}$", code) else "")
    )


@pytest.mark.parametrize("code", sorted(django_security_checks()))
def test_every_security_check_of_the_installed_django_has_its_own_entry(code: str) -> None:
    url = code_url(code)
    assert url is not None
    page, fragment = page_of(url)
    assert fragment != DJANGO_CHECKS_ANCHOR
    assert fragment in anchors(page), f"{code}: no '## {code} {{#{fragment}}}' in {page.name}"


def test_code_families_built_at_run_time_link_to_their_section() -> None:
    families = set()
    for text in _sources().values():
        families.update(re.findall(r"code=f\"([\w-]+):\{", text))
    assert families == {"ruff", "mypy", "gitleaks", "pip-audit"}, (
        "a new family of tool codes: decide where its codes are documented (docs_links.py)"
    )
    samples = ["mypy:arg-type", "gitleaks:github-pat", "pip-audit:GHSA-r3xc-prgr-mg9p"]
    for sample in samples:
        url = code_url(sample)
        assert url, sample
        page, fragment = page_of(url)
        assert fragment in anchors(page), sample
    # ruff names its rule's page in each finding's hint: no page here.
    assert code_url("ruff:F401") is None
    assert code_url("models.W042") == f"{DOCS_URL}codes/deploy/#{DJANGO_CHECKS_ANCHOR}"


def test_every_code_heading_is_a_code_the_package_knows() -> None:
    known = emitted_codes() | django_security_checks()
    for page in sorted((DOCS / "codes").glob("*.md")):
        for anchor, text in headings(page, level=2).items():
            if re.match(r"^(DJG\d{3}|tests:\S+|[a-z_]+\.[CEWI]\d{3})$", text):
                assert text in known, f"{page.name}: '## {text}' is not a code of the package"
                assert locate(text) == (f"codes/{page.stem}", anchor), text


@pytest.mark.parametrize(
    ("code", "url"),
    [
        ("DJG201", "codes/migrations/#djg201"),
        ("DJG101", "codes/queries/#djg101"),
        ("DJG121", "codes/indexes/#djg121"),
        ("DJG313", "codes/deploy/#djg313"),
        ("DJG407", "codes/coverage/#djg407"),
        ("tests:collection-error", "codes/tests/#tests-collection-error"),
        ("security.W018", "codes/deploy/#security-w018"),
        ("caches.E001", "codes/deploy/#django-check-ids"),
        ("pip-audit:unused-ignore", "codes/pip-audit/#pip-audit-unused-ignore"),
        ("pip-audit:CVE-2023-31047", "codes/pip-audit/#pip-audit-advisory-id"),
        ("mypy:note", "codes/mypy/#mypy-note"),
        ("ruff:invalid-syntax", "codes/ruff/#ruff-invalid-syntax"),
    ],
)
def test_code_url_is_the_page_and_the_code_as_anchor(code: str, url: str) -> None:
    assert code_url(code) == DOCS_URL + url


@pytest.mark.parametrize("code", ["ruff:E501", "DJG999", "DJG", "whatever", "tests:", ":x"])
def test_codes_without_a_page_have_no_url(code: str) -> None:
    assert code_url(code) is None


# -------------------------------------------------------------------- the site


def test_the_site_url_is_where_the_links_point() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert f"site_url: {DOCS_URL}\n" in config
    assert re.search(r"^theme:\n  name: material$", config, re.MULTILINE)
    assert re.search(r"^strict: true$", config, re.MULTILINE)
    listed = set(re.findall(r":\s+(\S+\.md)\s*$", config, re.MULTILINE))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert listed == pages, "every page is in the nav of mkdocs.yml, and only pages that exist"


def test_links_between_pages_resolve() -> None:
    broken = []
    for page in sorted(DOCS.rglob("*.md")):
        for line in _prose(page):
            for match in _LINK.finditer(line):
                target = match.group("target")
                if re.match(r"^[a-z]+:", target):
                    continue  # https:, mailto:
                path, _, fragment = target.partition("#")
                resolved = (page.parent / path).resolve() if path else page
                if not resolved.is_file():
                    broken.append(f"{page.relative_to(DOCS)}: {target} (no such page)")
                elif fragment and fragment not in anchors(resolved):
                    broken.append(f"{page.relative_to(DOCS)}: {target} (no such anchor)")
    assert broken == []


def test_the_readme_links_to_pages_that_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 260
    for url in sorted(set(re.findall(re.escape(DOCS_URL) + r"[^\s)>]*", readme))):
        if url != DOCS_URL:
            page, fragment = page_of(url)
            assert not fragment or fragment in anchors(page), url


# ------------------------------------------------------------------ the renderers


def _finding(code: str, **kw: object) -> Finding:
    data: dict[str, object] = {
        "code": code,
        "severity": "error",
        "message": "adds NOT NULL column",
        "object": "shop.0002_flag",
        "path": "shop/migrations/0002_flag.py",
        "line": 7,
        "hint": "Give the column a database default",
    }
    data.update(kw)
    return Finding(**data)  # type: ignore[arg-type]


def _report(*findings: Finding) -> Report:
    return Report(gates=(GateResult.from_findings("migrations", findings),))


def test_text_output_links_each_finding_to_its_code() -> None:
    text = render.render_text(
        _report(_finding("DJG201"), _finding("ruff:E501", object="a.py:1:1", hint="wrap it"))
    )
    assert (
        "    fix: Give the column a database default\n"
        f"    docs: {DOCS_URL}codes/migrations/#djg201\n"
    ) in text
    assert text.count("docs: ") == 1  # ruff's rule page is in its own hint


def test_a_multi_line_hint_is_followed_by_the_link() -> None:
    text = render.finding_text(_finding("DJG101", hint="first\nsecond"))
    assert text.splitlines()[-3:] == [
        "    fix: first",
        "         second",
        f"    docs: {DOCS_URL}codes/queries/#djg101",
    ]


def test_sarif_rules_carry_help_uri() -> None:
    ruff = _finding(
        "ruff:F401",
        hint="Remove unused import: `os`; see https://docs.astral.sh/ruff/rules/unused-import",
    )
    report = Report(
        gates=(
            GateResult.from_findings("migrations", [_finding("DJG201")]),
            GateResult.from_findings("ruff", [ruff, _finding("ruff:E501", hint="", line=9)]),
        )
    )
    log = json.loads(render.render_sarif(report))
    uris = {r["id"]: r["helpUri"] for run in log["runs"] for r in run["tool"]["driver"]["rules"]}
    assert uris == {
        "DJG201": f"{DOCS_URL}codes/migrations/#djg201",
        "ruff:F401": "https://docs.astral.sh/ruff/rules/unused-import",
        "ruff:E501": DOCS_URL,
    }


def test_markdown_and_github_annotations_carry_the_link() -> None:
    report = _report(_finding("DJG201"))
    url = f"{DOCS_URL}codes/migrations/#djg201"
    assert f"| error | [`DJG201`]({url}) |" in render.render_markdown(report)
    annotation = next(
        line for line in render.render_github(report).splitlines() if line.startswith("::error")
    )
    assert annotation.endswith("%0AFix: Give the column a database default%0ADocs: " + url)


def test_the_json_report_carries_no_link() -> None:
    data = json.loads(render.render_json(_report(_finding("DJG201"))))
    (finding,) = data["gates"][0]["findings"]
    assert set(finding) == {"code", "severity", "message", "object", "path", "line", "hint"}
    assert "pytest-django-gates.github.io" not in json.dumps(data)
