"""The coverage of a pytest session, for the coverage gate under ``pytest --django-gates``.

The session plugin runs the gate at ``pytest_sessionfinish`` on the controller
(never on an xdist worker) with ``GateContext.extra["pytest_session"]``; the gate
calls :func:`session_coverage` on that session's config. A caller that already
has the data may pass it as ``GateContext.extra[EXTRA_KEY]`` instead.

Coverage counts as measured only when pytest-cov is active (``--cov``) and has
finished: pytest-cov stops, saves and combines the data (its own and every
xdist worker's) in its ``pytest_runtestloop`` wrapper, so by
``pytest_sessionfinish`` ``pluginmanager.getplugin("_cov").cov_controller.cov``
holds the combined data. Otherwise the gate is skipped and its summary says
why (no ``--cov``, ``--no-cov``, ``--collect-only``, an interrupted run, or
``coverage run -m pytest`` — check that with ``django-gates coverage``
after ``coverage combine``).

Nothing here imports coverage.py or Django at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only a type here: `django-gates coverage` does not import pytest
    import pytest

EXTRA_KEY = "coverage"


@dataclass(frozen=True)
class SessionCoverage:
    """What the gate needs from the session.

    ``cov`` is pytest-cov's combined ``coverage.Coverage`` (None when not
    measured), ``workdir`` the directory pytest-cov reports from,
    ``lost_workers`` the xdist workers that sent no coverage data back.
    """

    measured: bool
    reason: str
    cov: Any = None
    workdir: Path | None = None
    lost_workers: tuple[str, ...] = ()


def session_coverage(config: pytest.Config) -> SessionCoverage:
    """Whether and how the session measured coverage; see the module docstring."""
    if getattr(config, "workerinput", None) is not None:
        return SessionCoverage(False, "xdist worker: coverage is checked once, on the controller")
    if getattr(config.option, "collectonly", False):
        return SessionCoverage(False, "--collect-only: no tests ran, so nothing was measured")
    plugin = config.pluginmanager.getplugin("_cov")
    if plugin is None:
        return SessionCoverage(False, _not_measured_reason())
    controller = getattr(plugin, "cov_controller", None)
    if getattr(plugin, "_disabled", False) or controller is None:
        return SessionCoverage(False, "coverage is disabled for this run (--no-cov)")
    combining = getattr(controller, "combining_cov", None)
    if combining is not None and controller.cov is not combining:
        return SessionCoverage(
            False, "pytest-cov did not combine the data: the test run did not finish"
        )
    lost = tuple(
        str(getattr(getattr(node, "gateway", None), "id", node))
        for node in getattr(controller, "failed_workers", ())
    )
    return SessionCoverage(
        True,
        "measured by pytest-cov",
        cov=controller.cov,
        workdir=Path(getattr(controller, "topdir", Path.cwd())),
        lost_workers=lost,
    )


def _not_measured_reason() -> str:
    try:
        import coverage

        running = coverage.Coverage.current() is not None
    except ImportError:  # pragma: no cover - coverage comes with pytest-cov
        running = False
    if running:
        return (
            "coverage is measured by `coverage run`, not pytest-cov (--cov), so its data is "
            "only complete after pytest exits: run `coverage combine` then "
            "`django-gates coverage`"
        )
    return "coverage is not being measured: run pytest with --cov (pytest-cov) to check floors"
