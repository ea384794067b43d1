"""Configuration: the one precedence rule, in one place.

Every option has a dotted key (``report``, ``queries.n_plus_one`` …). Its
effective value comes from the first of these that sets it:

1. the command line (``pytest --gates-…`` or ``django-gates … --…``);
2. the environment: ``DJANGO_GATES_`` + the key upper-cased with dots as
   underscores (``DJANGO_GATES_QUERIES_N_PLUS_ONE=report``); lists are
   comma-separated, booleans ``1/0/true/false/yes/no/on/off``;
3. ``pyproject.toml``: ``[tool.django-gates]`` for top-level keys and
   ``[tool.django-gates.<section>]`` for dotted ones (``queries.n_plus_one``
   lives in ``[tool.django-gates.queries]`` as ``n_plus_one``);
4. the built-in default.

:class:`GatesConfig` remembers where each value came from, so the pytest
header and ``django-gates`` can show it. Options declared ``env=False`` (tables
such as allowlists) are read from ``pyproject.toml`` only.

The catalogue of options is :mod:`pytest_django_gates.options`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "DJANGO_GATES_"
TABLE = "django-gates"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """Bad configuration: the message names the key or file and what is allowed."""


Converter = Callable[[Any, str], Any]


@dataclass(frozen=True)
class Option:
    """One configurable value.

    ``kind`` is one of ``str``, ``int``, ``float``, ``bool``, ``path``,
    ``choice``, ``list`` (of strings), ``mapping`` (names to strings: a TOML
    table, or ``NAME=value,NAME=value`` from the environment) or ``table`` (a list
    of TOML tables, validated by ``validate``).
    """

    key: str
    kind: str
    default: Any
    help: str
    cli: str | None = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    env: bool = True
    # A callable, or "module:function" imported only when the option is set.
    validate: Converter | str | None = None

    @property
    def env_name(self) -> str:
        return ENV_PREFIX + self.key.upper().replace(".", "_").replace("-", "_")

    @property
    def toml_location(self) -> str:
        section, _, name = self.key.rpartition(".")
        table = f"[tool.{TABLE}.{section}]" if section else f"[tool.{TABLE}]"
        return f"{table} {name}"

    def convert(self, raw: Any, where: str) -> Any:
        """Turn ``raw`` (a TOML value, or a string from the environment) into the typed value."""
        from_text = isinstance(raw, str)
        value: Any
        if self.kind == "bool":
            if isinstance(raw, bool):
                value = raw
            elif from_text and raw.strip().lower() in _TRUE | _FALSE:
                value = raw.strip().lower() in _TRUE
            else:
                raise ConfigError(f"{where}: expected true or false, got {raw!r}")
        elif self.kind in ("int", "float"):
            number_type: type = int if self.kind == "int" else float
            if isinstance(raw, bool):
                raise ConfigError(f"{where}: expected a number, got {raw!r}")
            try:
                value = number_type(raw)
            except (TypeError, ValueError, OverflowError):
                raise ConfigError(
                    f"{where}: expected {'an integer' if self.kind == 'int' else 'a number'}, "
                    f"got {raw!r}"
                ) from None
            if self.kind == "int" and isinstance(raw, float) and raw != int(raw):
                raise ConfigError(f"{where}: expected an integer, got {raw!r}")
            if self.minimum is not None and value < self.minimum:
                raise ConfigError(f"{where}: must be at least {self.minimum:g}, got {raw!r}")
        elif self.kind == "choice":
            if raw not in self.choices:
                raise ConfigError(
                    f"{where}: {raw!r} is not allowed; choose one of: {', '.join(self.choices)}"
                )
            value = raw
        elif self.kind in ("str", "path"):
            if not isinstance(raw, str):
                raise ConfigError(f"{where}: expected a string, got {raw!r}")
            value = raw
        elif self.kind == "list":
            if from_text:
                value = [part.strip() for part in raw.split(",") if part.strip()]
            elif isinstance(raw, list) and all(isinstance(v, str) for v in raw):
                value = list(raw)
            else:
                raise ConfigError(f"{where}: expected a list of strings, got {raw!r}")
            if self.choices:
                bad = [v for v in value if v not in self.choices]
                if bad:
                    raise ConfigError(
                        f"{where}: {', '.join(map(repr, bad))} not allowed; "
                        f"choose from: {', '.join(self.choices)}"
                    )
        elif self.kind == "mapping":
            value = _mapping(raw, where, from_text)
        elif self.kind == "table":
            if not isinstance(raw, list) or not all(isinstance(v, dict) for v in raw):
                raise ConfigError(
                    f"{where}: expected a list of tables "
                    f"(e.g. [[tool.{TABLE}.{self.key}]] entries), got {raw!r}"
                )
            value = raw
        else:  # pragma: no cover - programming error
            raise AssertionError(f"unknown option kind {self.kind!r}")
        if self.validate is not None:
            validate = self.validate
            if isinstance(validate, str):
                import importlib

                module, _, name = validate.partition(":")
                validate = getattr(importlib.import_module(module), name)
            value = validate(value, where)
        return value


def _mapping(raw: Any, where: str, from_text: bool) -> dict[str, str]:
    """A ``mapping`` option: a TOML table of strings, or ``A=1,B=2`` from the environment."""
    if from_text:
        value: dict[str, str] = {}
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                continue
            name, sep, text = part.partition("=")
            if not sep or not name.strip():
                raise ConfigError(
                    f"{where}: expected NAME=value pairs separated by commas, got {part!r}"
                )
            value[name.strip()] = text.strip()
        return value
    if isinstance(raw, dict):
        bad = [k for k, v in raw.items() if not isinstance(v, (str, bool, int, float))]
        if not bad:
            # TOML booleans and numbers are written as the environment would see them.
            return {
                str(k): ("true" if v is True else "false" if v is False else str(v))
                for k, v in raw.items()
            }
        raise ConfigError(
            f'{where}: {", ".join(map(repr, bad))} must be a string (a table of NAME = "value")'
        )
    raise ConfigError(f'{where}: expected a table of NAME = "value", got {raw!r}')


@dataclass
class GatesConfig:
    """Effective option values and where each came from."""

    values: dict[str, Any]
    sources: dict[str, str]
    pyproject: Path | None
    options: Mapping[str, Option] = field(repr=False, default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str) -> Any:
        return self.values[key]

    def source(self, key: str) -> str:
        return self.sources[key]

    @property
    def base_dir(self) -> Path:
        """Directory relative paths in the configuration are resolved against."""
        return self.pyproject.parent if self.pyproject else Path.cwd()

    def path(self, key: str) -> Path | None:
        value = self.values[key]
        if value in (None, ""):
            return None
        p = Path(value)
        return p if p.is_absolute() else self.base_dir / p


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``."""
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_table(pyproject: Path | None) -> dict[str, Any]:
    """``[tool.django-gates]`` of ``pyproject`` (empty when absent)."""
    if pyproject is None:
        return {}
    if sys.version_info >= (3, 11):  # pragma: no cover - version dependent
        import tomllib
    else:  # pragma: no cover - version dependent
        import tomli as tomllib
    try:
        with pyproject.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{pyproject}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{pyproject}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
            f"{exc.start}); TOML files are UTF-8: save it as UTF-8"
        ) from None
    except RecursionError:
        raise ConfigError(
            f"{pyproject}: not valid TOML: arrays or tables nested too deeply to read; fix the file"
        ) from None
    tool = data.get("tool", {})
    table = tool.get(TABLE, {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.{TABLE}] must be a table")
    return table


def load(
    options: Mapping[str, Option],
    *,
    cli: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    pyproject: Path | None = None,
) -> GatesConfig:
    """Resolve every option by the documented precedence.

    ``cli`` maps keys to values given on the command line (``None`` = not given).
    Raises :class:`ConfigError` naming the key, the source and the allowed values.
    """
    cli = cli or {}
    environ = os.environ if environ is None else environ
    table = read_table(pyproject)
    flat = _flatten(table, options, pyproject)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, opt in options.items():
        given = cli.get(key)
        if given is not None:
            values[key] = opt.convert(given, f"command line {opt.cli or key}")
            sources[key] = f"command line ({opt.cli})" if opt.cli else "command line"
        elif opt.env and opt.env_name in environ:
            values[key] = opt.convert(environ[opt.env_name], f"environment {opt.env_name}")
            sources[key] = f"environment ({opt.env_name})"
        elif key in flat:
            values[key] = opt.convert(flat[key], f"{pyproject}: {opt.toml_location}")
            sources[key] = (
                f"{pyproject.name if pyproject else 'pyproject.toml'} ({opt.toml_location})"
            )
        else:
            values[key] = opt.default
            sources[key] = "default"
    return GatesConfig(values=values, sources=sources, pyproject=pyproject, options=options)


def _flatten(
    table: Mapping[str, Any], options: Mapping[str, Option], pyproject: Path | None
) -> dict[str, Any]:
    """Map ``[tool.django-gates]`` (with sub-tables) to dotted keys; unknown keys are errors."""
    sections = {k.rpartition(".")[0] for k in options if "." in k}
    flat: dict[str, Any] = {}
    for name, value in table.items():
        if name in sections and isinstance(value, dict):
            for sub, subvalue in value.items():
                key = f"{name}.{sub}"
                if key not in options:
                    _unknown(
                        f"[tool.{TABLE}.{name}]",
                        sub,
                        [k.split(".", 1)[1] for k in options if k.startswith(name + ".")],
                        pyproject,
                    )
                flat[key] = subvalue
        elif name in options:
            flat[name] = value
        else:
            allowed = sorted({k for k in options if "." not in k} | sections)
            _unknown(f"[tool.{TABLE}]", name, allowed, pyproject)
    return flat


def _unknown(table: str, key: str, allowed: list[str], pyproject: Path | None) -> None:
    raise ConfigError(
        f"{pyproject}: {table} has an unknown key {key!r}; "
        f"allowed keys: {', '.join(sorted(allowed))}"
    )
