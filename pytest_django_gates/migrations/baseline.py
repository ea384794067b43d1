"""The baseline: a committed JSON file of existing migrations whose findings are accepted.

It lets a team adopt the gate on a long history: findings in a baselined
migration are not reported (the summary counts them). ``--update-baseline``
rewrites it (atomically) with every migration of the project that has
findings today. Shape::

    {"format": 1, "gate": "migrations",
     "migrations": {"shop.0003_remove_order_total": ["DJG203"], ...},
     "drift": {"core": ["DJG230: the models of 'core' have changes ..."]}}

The codes are informative: a baselined migration is accepted as a whole.
``drift`` (optional) accepts the model changes no migration records
(``DJG230``/``DJG231``) that an adopted project already has, per app, by the
exact message (which lists the pending changes): a new pending change makes a
new message, which is reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pytest_django_gates.config import ConfigError
from pytest_django_gates.report import atomic_write_text, read_json

FORMAT = 1
_REGENERATE = "regenerate it with: django-gates migrations --all --update-baseline"


@dataclass
class Baseline:
    path: Path
    migrations: dict[str, list[str]] = field(default_factory=dict)
    drift: dict[str, list[str]] = field(default_factory=dict)

    def holds_drift(self, code: str, obj: str, message: str) -> bool:
        return drift_entry(code, message) in self.drift.get(obj, [])

    def __contains__(self, label: object) -> bool:
        return label in self.migrations

    @classmethod
    def load(cls, path: Path) -> Baseline:
        if not path.exists():
            raise ConfigError(
                f"migrations baseline {path} does not exist; create it with: "
                "django-gates migrations --all --update-baseline"
            )
        data = read_json(
            path,
            what="migrations baseline",
            next_step=f"fix it or {_REGENERATE}",
            error=ConfigError,
        )
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or data.get("gate") != "migrations"
        ):
            raise ConfigError(
                f"migrations baseline {path}: not a migrations baseline of format {FORMAT} "
                '(expected {"format": 1, "gate": "migrations", "migrations": {...}}); '
                f"{_REGENERATE}"
            )
        entries = data.get("migrations")
        if not isinstance(entries, dict):
            raise ConfigError(
                f"migrations baseline {path}: 'migrations' must be an object; {_REGENERATE}"
            )
        migrations: dict[str, list[str]] = {}
        for label, codes in entries.items():
            if (
                not isinstance(label, str)
                or label.count(".") != 1
                or not isinstance(codes, list)
                or not all(isinstance(c, str) for c in codes)
            ):
                raise ConfigError(
                    f"migrations baseline {path}: entry {label!r} must map "
                    f"'app_label.migration_name' to a list of codes; {_REGENERATE}"
                )
            migrations[label] = list(codes)
        drift = data.get("drift", {})
        if not isinstance(drift, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(m, str) for m in v)
            for k, v in drift.items()
        ):
            raise ConfigError(
                f"migrations baseline {path}: 'drift' must map an app label to a list of "
                f"messages; {_REGENERATE}"
            )
        return cls(path=path, migrations=migrations, drift={k: list(v) for k, v in drift.items()})

    @staticmethod
    def write(
        path: Path,
        accepted: Mapping[str, Iterable[str]],
        drift: Mapping[str, Iterable[str]] | None = None,
    ) -> int:
        """Write the baseline atomically; returns the number of migrations in it."""
        entries = {label: sorted(set(codes)) for label, codes in sorted(accepted.items())}
        data = {
            "format": FORMAT,
            "gate": "migrations",
            "comment": (
                "Existing migrations accepted by django-gates; their findings are not "
                "reported. Regenerate with: django-gates migrations --all --update-baseline"
            ),
            "migrations": entries,
        }
        if drift:
            data["drift"] = {app: sorted(set(m)) for app, m in sorted(drift.items())}
        atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
        return len(entries)


def drift_entry(code: str, message: str) -> str:
    return f"{code}: {message}"
