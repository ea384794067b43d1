"""The registry of migration rules: code -> :class:`Rule`, in code order.

Codes never change meaning. Importing this module does not import Django.
"""

from __future__ import annotations

import importlib
import re

from pytest_django_gates.migrations.base import Rule

_MODULES = (
    "djg201_add_not_null_column",
    "djg202_add_column_rewrite",
    "djg203_remove_column",
    "djg204_remove_table",
    "djg205_rename_column",
    "djg206_rename_model_table",
    "djg207_rename_table",
    "djg208_alter_column_type",
    "djg209_alter_column_collation",
    "djg210_set_not_null",
    "djg211_add_index",
    "djg212_remove_index",
    "djg213_concurrent_in_atomic",
    "djg214_foreign_key_validated",
    "djg215_check_validated",
    "djg216_data_under_schema_lock",
    "djg217_m2m_retarget",
    "djg218_schema_change_in_runpython",
    "djg220_runpython_without_reverse",
    "djg221_runsql_without_reverse",
    "djg222_runpython_imports_models",
    "djg223_runsql_outside_transaction",
    "djg230_missing_migrations",
    "djg231_conflicting_leaves",
    "djg232_edited_migration",
    "djg240_trace_blocking_unflagged",
    "djg241_trace_flagged_not_blocking",
    "djg290_unused_ignore",
    "djg291_stale_baseline",
)

CODE_PATTERN = re.compile(r"^DJG2\d\d$")


def _load() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for name in _MODULES:
        module = importlib.import_module(f"pytest_django_gates.migrations.rules.{name}")
        rule: Rule = module.RULE
        if not CODE_PATTERN.match(rule.code) or not name.startswith(rule.code.lower()):
            raise AssertionError(f"rule module {name} has a bad code {rule.code!r}")
        if rule.code in rules:
            raise AssertionError(f"duplicate rule code {rule.code}")
        rules[rule.code] = rule
    return rules


RULES: dict[str, Rule] = _load()

UNUSED_IGNORE = RULES["DJG290"]
STALE_BASELINE = RULES["DJG291"]


def postgresql_only_codes() -> list[str]:
    return [code for code, rule in RULES.items() if rule.postgresql_only]


def describe_codes(codes: list[str]) -> str:
    """``DJG202, DJG208-DJG212`` style ranges of consecutive codes."""
    numbers = sorted(int(code[3:]) for code in codes)
    parts: list[str] = []
    start = prev = None
    for n in [*numbers, None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None and prev is not None:
            parts.append(f"DJG{start}" if start == prev else f"DJG{start}-DJG{prev}")
        start = prev = n
    return ", ".join(parts)
