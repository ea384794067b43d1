"""Coverage data in, per-file figures out.

Two sources, one result (:class:`Measurement`):

* the ``coverage.Coverage`` object of a pytest session (pytest-cov has already
  stopped, saved and combined it, workers included);
* data files on disk (``django-gates coverage --data FILE...``): every file is
  read and checked, then all of them are combined in memory (the
  ``[paths]`` aliases of the coverage configuration apply, so shards measured
  in other checkouts line up). Input files are never changed or deleted.

Figures come from coverage.py's own JSON report (format 3), so they honour the
project's ``include`` / ``omit`` / ``exclude_lines`` settings and match
``coverage report`` exactly. Only ``coverage`` itself is imported, and lazily.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_django_gates.config import ConfigError
from pytest_django_gates.coverage.figures import Figure

if TYPE_CHECKING:  # pragma: no cover
    import coverage


class CoverageDataError(ConfigError):
    """Coverage data that cannot be used: names the file and what to do."""


@dataclass(frozen=True)
class FileCoverage:
    """The figures of one measured file.

    ``path`` is posix and relative to the project root when the file is inside
    it (absolute otherwise); ``abspath`` is the real absolute path.
    """

    path: str
    abspath: str
    lines: Figure
    branches: Figure
    missing_lines: tuple[int, ...] = ()
    statements: tuple[int, ...] = ()
    missing_arcs: tuple[tuple[int, int], ...] = ()


@dataclass
class Measurement:
    """Every measured file, keyed by ``FileCoverage.path``.

    ``analyze(abspath)`` returns ``(statements, missing)`` of one file exactly as
    coverage.py sees it; it is only valid inside the context manager that made
    this object (it needs coverage.py's working directory).
    """

    files: dict[str, FileCoverage]
    has_branches: bool
    origin: str
    cov: Any = field(repr=False, default=None)

    def analyze(self, abspath: str) -> tuple[set[int], set[int]]:
        _, statements, _, missing, _ = self.cov.analysis2(abspath)
        return set(statements), set(missing)

    def by_abspath(self) -> dict[str, FileCoverage]:
        return {f.abspath: f for f in self.files.values()}


@contextmanager
def chdir(path: Path) -> Iterator[None]:
    """``contextlib.chdir`` for Python 3.10."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def relative_posix(abspath: str, rootdir: Path) -> str:
    root = os.path.realpath(rootdir)
    try:
        rel = os.path.relpath(abspath, root)
    except ValueError:  # pragma: no cover - another drive on Windows
        return Path(abspath).as_posix()
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return Path(abspath).as_posix()
    return Path(rel).as_posix()


@contextmanager
def from_session(
    cov: coverage.Coverage, workdir: Path, rootdir: Path, origin: str
) -> Iterator[Measurement]:
    """The measurement of a pytest session's (already combined) ``Coverage``."""
    with chdir(workdir):
        yield _measure(cov, rootdir, origin)


@contextmanager
def from_files(paths: Sequence[Path], rootdir: Path) -> Iterator[Measurement]:
    """Read, check and combine data files (or directories of them) in memory.

    Relative ``paths`` are resolved against the project root; an empty
    ``paths`` means coverage.py's configured data file (``.coverage``), or the
    parallel ``.coverage.*`` files next to it when it does not exist.
    Raises :class:`CoverageDataError` naming the file for anything unreadable.
    """
    coverage = _import_coverage()
    with chdir(rootdir):
        cov = coverage.Coverage(data_file=None, config_file=True)
        basename = Path(str(cov.config.data_file)).name
        files = _data_files(paths, rootdir, basename, Path(str(cov.config.data_file)))
        for path in files:
            _check_readable(path)
        checkouts = other_checkouts(files, rootdir)
        if checkouts:
            # After the project's own [paths] aliases, which coverage.py tries first.
            cov.config.paths["django-gates: other checkouts"] = [
                str(rootdir.resolve()) + os.sep,
                *checkouts,
            ]
        try:
            cov.combine(data_paths=[str(p) for p in files], keep=True)
        except coverage.CoverageException as exc:
            raise CoverageDataError(f"cannot combine coverage data: {exc}") from exc
        shown = ", ".join(relative_posix(str(p), rootdir) for p in files)
        yield _measure(cov, rootdir, f"coverage data {shown}")


def other_checkouts(files: Sequence[Path], rootdir: Path) -> list[str]:
    """The project directories of other checkouts that ``files`` were measured in.

    A shard of a split suite runs on another machine, maybe in another directory: its
    data names ``/runner/a/project/app/views.py`` where this checkout has
    ``<rootdir>/app/views.py``. For each measured file that is not here, the directory
    whose removal from its path leaves a file that is here (the longest such ending) is
    another checkout's project directory; those are mapped onto ``rootdir`` as a
    ``[paths]`` alias would be (the project's own aliases apply first). Files with no
    such ending stay as they are, and the gate says they are missing."""
    coverage = _import_coverage()
    root = rootdir.resolve()
    found: set[str] = set()
    for path in files:
        data = coverage.CoverageData(basename=str(path))
        data.read()
        for measured in data.measured_files():
            where = Path(measured)
            if not where.is_absolute() or where.exists() or where.is_relative_to(root):
                continue
            parts = where.parts
            for cut in range(1, len(parts)):
                if (root / Path(*parts[cut:])).is_file():
                    found.add(str(Path(*parts[:cut])) + os.sep)
                    break
    return sorted(found)


def _data_files(paths: Sequence[Path], rootdir: Path, basename: str, default: Path) -> list[Path]:
    if not paths:
        data_file = default if default.is_absolute() else rootdir / default
        if data_file.is_file():
            return [data_file]
        parallel = sorted(data_file.parent.glob(f"{glob_escape(basename)}.*"))
        parallel = [p for p in parallel if p.is_file()]
        if parallel:
            return parallel
        raise CoverageDataError(
            f"no coverage data at {relative_posix(str(data_file), rootdir)}: run the tests "
            "with coverage first (pytest --cov, or coverage run + coverage combine), "
            "or pass --data FILE"
        )
    files: list[Path] = []
    for given in paths:
        path = given if given.is_absolute() else rootdir / given
        shown = relative_posix(os.path.abspath(path), rootdir)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and (p.name == basename or p.name.startswith(basename + "."))
            )
            if not found:
                raise CoverageDataError(
                    f"--data {shown}: the directory holds no coverage data files "
                    f"({basename} or {basename}.*)"
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise CoverageDataError(f"--data {shown}: no such file or directory")
    return files


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def _check_readable(path: Path) -> None:
    coverage = _import_coverage()
    try:
        data = coverage.CoverageData(basename=str(path))
        data.read()
    except coverage.CoverageException as exc:
        raise CoverageDataError(
            f"{path}: not readable coverage data ({exc}); pass the .coverage file "
            "written by coverage.py or pytest-cov"
        ) from exc
    except Exception as exc:  # sqlite3 errors and the like
        raise CoverageDataError(f"{path}: not readable coverage data ({exc})") from exc


def _measure(cov: coverage.Coverage, rootdir: Path, origin: str) -> Measurement:
    coverage = _import_coverage()
    if not cov.get_data().measured_files():
        raise CoverageDataError(
            f"{origin} has no measured files: nothing was measured (check --cov / "
            "[tool.coverage.run] source)"
        )
    with tempfile.TemporaryDirectory(prefix="django-gates-coverage-") as scratch:
        tmp = os.path.join(scratch, "coverage.json")
        try:
            cov.json_report(outfile=tmp)
        except coverage.exceptions.NoSource as exc:
            raise CoverageDataError(
                f"{origin}: {exc}. The data names a file that is not here: it was measured "
                "in another checkout; map the paths with [tool.coverage.paths] (or measure "
                "with relative_files = true) and combine again"
            ) from exc
        except coverage.CoverageException as exc:
            raise CoverageDataError(f"{origin}: coverage.py cannot report: {exc}") from exc
        with open(tmp, encoding="utf-8") as fh:
            report = json.load(fh)
    return _parse_report(report, rootdir, origin, cov)


def _parse_report(report: dict[str, Any], rootdir: Path, origin: str, cov: Any) -> Measurement:
    meta = report.get("meta", {})
    has_branches = bool(meta.get("branch_coverage"))
    here = os.getcwd()
    files: dict[str, FileCoverage] = {}
    for name, entry in report.get("files", {}).items():
        summary = entry["summary"]
        abspath = os.path.realpath(os.path.join(here, name))
        path = relative_posix(abspath, rootdir)
        executed = entry.get("executed_lines", [])
        missing = entry.get("missing_lines", [])
        lines = Figure(int(summary["covered_lines"]), int(summary["num_statements"]), "line")
        if has_branches:
            branches = Figure(
                int(summary["covered_branches"]), int(summary["num_branches"]), "branch"
            )
            arcs = tuple((int(a), int(b)) for a, b in entry.get("missing_branches", []))
        else:
            branches = Figure(0, 0, "branch")
            arcs = ()
        files[path] = FileCoverage(
            path=path,
            abspath=abspath,
            lines=lines,
            branches=branches,
            missing_lines=tuple(sorted(missing)),
            statements=tuple(sorted(set(executed) | set(missing))),
            missing_arcs=arcs,
        )
    return Measurement(files=files, has_branches=has_branches, origin=origin, cov=cov)


def _import_coverage() -> Any:
    try:
        import coverage
        import coverage.exceptions
    except ImportError as exc:  # pragma: no cover - coverage is installed with pytest-cov
        raise ConfigError(
            "the coverage gate needs coverage.py: pip install coverage (or pytest-cov)"
        ) from exc
    return coverage
