"""The deploy baseline: the findings a project had when it adopted the gates.

``[tool.django-gates.deploy] hold`` (``auto``, ``baseline`` or ``off``) and
``baseline`` (default ``.django-gates/deploy-baseline.json``) work as the ruff and
mypy baselines do (:mod:`pytest_django_gates.gates._hold`, the same file format and
fingerprint): a finding is held back when its check id, file, the text of the line
it is located at and its message were recorded. A settings line that is added or
edited is new, so a pull request's ``DEBUG = True`` is reported even when the base
already had a ``security.W018`` from ``DEBUG = env.bool("DEBUG", default=True)``.
A finding without a line (a setting no line of the settings sets) is fingerprinted
by its check, file and message.

Unlike ruff and mypy, the deploy gate never holds by changed lines: a deploy
finding can come from a line the change removed, or from a file it did not touch.

The allow bookkeeping (``DJG390`` unused allow, ``DJG391`` expired allow) is about
the configuration, not the project: it is never recorded nor held back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pytest_django_gates.config import ConfigError, GatesConfig
from pytest_django_gates.gates import _hold
from pytest_django_gates.report import Finding

GATE = "deploy"
CONFIG_CODES = frozenset({"DJG390", "DJG391"})


def recordable(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.code not in CONFIG_CODES]


def write(findings: Sequence[Finding], cfg: GatesConfig, rootdir: Path) -> str:
    """Record ``findings``; the summary line."""
    _hold.refuse_all_with_update(cfg)
    path = _hold.baseline_path(GATE, cfg, rootdir)
    kept = recordable(findings)
    entries = _hold.write(GATE, path, kept, rootdir)
    return (
        f"baseline {_hold.shown(path, rootdir)} written with {_hold.count(len(kept), 'finding')} "
        f"({_hold.count(entries, 'fingerprint')}); commit it"
    )


def hold(findings: Sequence[Finding], cfg: GatesConfig, rootdir: Path) -> tuple[list[Finding], str]:
    """The findings that count under ``deploy.hold``, and a note for the summary."""
    mode = str(cfg.get("deploy.hold") or "auto")
    if mode == "off" or cfg.get("run.all"):
        return list(findings), ""
    path = _hold.baseline_path(GATE, cfg, rootdir)
    label = _hold.shown(path, rootdir)
    if not path.is_file():
        if mode == "baseline":
            raise ConfigError(
                f'[tool.django-gates.deploy] hold = "baseline", but the baseline {label} does '
                f"not exist; write it with `{_hold.update_command(GATE)}`"
            )
        return list(findings), ""
    held = _hold.by_baseline(GATE, path, recordable(findings), rootdir, label)
    kept = [*held.findings, *(f for f in findings if f.code in CONFIG_CODES)]
    return kept, held.note()
