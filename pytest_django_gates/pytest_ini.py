"""pytest's configuration file, read as pytest finds it (without running pytest).

The first of these in a directory that exists (and, for the shared files, has a
pytest section) is pytest's configuration: ``pytest.ini``, ``.pytest.ini``,
``pyproject.toml`` with ``[tool.pytest.ini_options]`` (or pytest 9's native
``[tool.pytest]``), ``tox.ini`` with ``[pytest]``, ``setup.cfg`` with
``[tool:pytest]``. Used where the gates need ``DJANGO_SETTINGS_MODULE`` and
``pythonpath`` before pytest-django has set anything up (the migration gate's
project, the coverage gate's app index, ``django-gates init``).
"""

from __future__ import annotations

import configparser
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):  # pragma: no cover - version dependent
    import tomllib
else:  # pragma: no cover - version dependent
    import tomli as tomllib


@dataclass(frozen=True)
class PytestIni:
    """What the gates read of pytest's configuration; ``where`` names the file and section
    (empty when none was found)."""

    settings: str | None = None
    pythonpath: list[str] = field(default_factory=list)  # as written (relative to ``root``)
    where: str = ""
    root: Path | None = None
    python_files: list[str] = field(default_factory=list)  # empty: pytest's default


def read(root: Path) -> PytestIni:
    """pytest's configuration in ``root`` (see the module docstring)."""
    for name in ("pytest.ini", ".pytest.ini"):
        if (root / name).is_file():
            return _from_ini(root / name, "pytest", required=False)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            with pyproject.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError):
            data = {}
        tool = data.get("tool", {})
        table = tool.get("pytest") if isinstance(tool, dict) else None
        if isinstance(table, dict):
            options = table.get("ini_options", table)
            if isinstance(options, dict) and options:
                module = options.get("DJANGO_SETTINGS_MODULE")
                raw = options.get("pythonpath", [])
                paths = raw.split() if isinstance(raw, str) else [str(p) for p in raw]
                raw = options.get("python_files", [])
                files = raw.split() if isinstance(raw, str) else [str(p) for p in raw]
                section = "[tool.pytest.ini_options]" if "ini_options" in table else "[tool.pytest]"
                return PytestIni(
                    module if isinstance(module, str) and module else None,
                    paths,
                    f"pyproject.toml {section}",
                    root,
                    files,
                )
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        if (root / name).is_file():
            found = _from_ini(root / name, section, required=True)
            if found.where:
                return found
    return PytestIni()


def _from_ini(path: Path, section: str, *, required: bool) -> PytestIni:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return PytestIni()
    if not parser.has_section(section):
        # pytest.ini is pytest's file even without a [pytest] section
        return PytestIni() if required else PytestIni(where=f"{path.name}", root=path.parent)
    options = {k.lower(): v for k, v in parser.items(section)}
    module = (options.get("django_settings_module") or "").strip()
    return PytestIni(
        module or None,
        options.get("pythonpath", "").split(),
        f"{path.name} [{section}]",
        path.parent,
        options.get("python_files", "").split(),
    )
