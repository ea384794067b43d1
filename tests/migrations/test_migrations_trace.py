"""The lock tracer (``django-gates migrations --trace``) on the real PostgreSQL.

What it reports is checked against what PostgreSQL is known to do (and what
``test_migrations_locks.py`` proves by other means): ACCESS EXCLUSIVE and a
rewrite for a type change, SHARE for a plain index build, nothing blocking for
``AddIndexConcurrently``; and it must always drop its scratch database.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_django_gates.migrations.tracer import MigrationTrace, OpTrace, Trace, compare
from pytest_django_gates.report import Finding
from tests.cli.cli_support import commit_all
from tests.helpers import default_sigint
from tests.migrations.migrations_support import (
    CORPUS,
    clean_env,
    cli,
    cli_json,
    corpus_env,
    make_project,
    migration,
    project_json,
    simple_app,
)


def _server_url(server: dict[str, object]) -> str:
    return f"postgres://{server['user']}@{server['host']}:{server['port']}/postgres"


def _exists(server: dict[str, object], name: str) -> bool:
    import psycopg

    with psycopg.connect(
        host=str(server["host"]),
        port=int(str(server["port"])),
        user=str(server["user"]),
        dbname="postgres",
    ) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


def _ops(trace: dict[str, Any], label: str) -> list[dict[str, Any]]:
    for entry in trace["migrations"]:
        if entry["object"] == label:
            return list(entry["operations"])
    raise AssertionError(f"{label} was not traced")


@pytest.mark.postgres
def test_trace_of_the_corpus_matches_what_postgresql_does(
    postgres_server: dict[str, object], tmp_path: Path
) -> None:
    out = tmp_path / "trace.json"
    code, report = cli_json(
        [
            "--project",
            str(CORPUS),
            "migrations",
            "--all",
            "--backend",
            "postgresql",
            "--trace",
            "--trace-database",
            _server_url(postgres_server),
            "--trace-output",
            str(out),
        ],
        env=corpus_env(),
    )
    gate = report["gates"][0]
    assert code == 1, gate["summary"]  # the corpus has unsafe migrations
    assert "traced " in gate["summary"]
    assert "on PostgreSQL " in gate["summary"]
    trace = json.loads(out.read_text(encoding="utf-8"))
    assert trace["format"] == 1
    assert not _exists(postgres_server, trace["database"]), "scratch database left behind"

    # A type change: ACCESS EXCLUSIVE, the table rewritten, reads and writes blocked.
    (qty,) = _ops(trace, "djgc_types.0005_qty_bigint")
    assert qty["held"]["djgc_types_product"] == "AccessExclusiveLock"
    assert "djgc_types_product" in qty["rewritten"]
    assert qty["blocked"]["djgc_types_product"] == ["read", "write"]
    # A plain index build: SHARE, writes blocked, reads go on.
    (index,) = _ops(trace, "djgc_indexes.0002_add_index")
    assert index["locks"]["djgc_indexes_event"] == "ShareLock"
    assert index["built"] == ["djgc_event_at"]
    assert index["blocked"] == {"djgc_indexes_event": ["write"]}
    # AddIndexConcurrently: sampled while it runs, nothing blocking.
    (concurrent,) = _ops(trace, "djgc_pgops.0002_index_concurrently")
    assert concurrent["sampled"] is True
    assert concurrent["locks"] == {"djgc_pgops_order": "ShareUpdateExclusiveLock"}
    assert concurrent["blocked"] == {}
    assert concurrent["built"] == ["djgc_order_ref"]
    # DJG214's exemption: a new nullable foreign key validates nothing (no scan).
    (reviewer,) = _ops(trace, "djgc_constraints.0007_add_reviewer_fk_unindexed")
    assert reviewer["scanned"] == []
    assert reviewer["held"]["djgc_constraints_book"] == "AccessExclusiveLock"
    # DJG210: add, backfill, SET NOT NULL: the scan runs under the lock AddField took.
    _, backfill, not_null = _ops(trace, "djgc_columns.0008_add_backfill_require_region")
    assert not_null["scanned"] == ["djgc_columns_customer"]
    assert not_null["held"]["djgc_columns_customer"] == "AccessExclusiveLock"
    assert "djgc_columns_customer" not in not_null["locks"]  # taken by operation 1
    assert backfill["blocked"]["djgc_columns_customer"] == ["read", "write"]
    # DJG217: the through table's column changes type: a rewrite.
    (m2m,) = _ops(trace, "djgc_rawsql.0007_marks_to_stickers")
    assert "djgc_rawsql_box_marks" in m2m["rewritten"]
    # DJG218: the RunPython's own DDL is traced too.
    (runpython,) = _ops(trace, "djgc_code.0011_runpython_changes_schema")
    assert "djgc_ticket_score" in runpython["built"]
    assert runpython["held"]["djgc_code_ticket"] == "AccessExclusiveLock"

    # On the corpus the rules and the trace agree: no disagreement, and every lock
    # error carries the trace's evidence.
    codes = {f["code"] for f in gate["findings"]}
    assert not codes & {"DJG240", "DJG241"}, [
        (f["object"], f["message"]) for f in gate["findings"] if f["code"] in ("DJG240", "DJG241")
    ]
    for finding in gate["findings"]:
        if finding["code"] in ("DJG208", "DJG211", "DJG215") and "squash" not in finding["object"]:
            assert "[trace: " in finding["message"], finding
    # A declared small table's index build still takes its lock (the trace says so):
    # the finding is a warning because the lock is brief, not because there is none.
    small = [f for f in gate["findings"] if f["object"] == "djgc_small.0002_index_small_tables"]
    assert sorted(f["severity"] for f in small) == ["error", "warning", "warning"]
    assert all("[trace: " in f["message"] for f in small), small


# A blocking rewrite no rule reads from the SQL (CLUSTER with a table rewrites it under
# ACCESS EXCLUSIVE); the trace sees it. (ALTER COLUMN ... TYPE, the earlier example, is
# DJG208's now.)
RUNSQL_RETYPE = migration(
    "shop",
    "0001_initial",
    'migrations.RunSQL("CLUSTER shop_item USING shop_item_pkey", migrations.RunSQL.noop)',
)


@pytest.mark.postgres
def test_rows_are_filled_and_a_blocking_operation_no_rule_saw_is_reported(
    postgres_server: dict[str, object], tmp_path: Path
) -> None:
    root = make_project(tmp_path / "proj", {"shop": simple_app(**{"0002_retype": RUNSQL_RETYPE})})
    out = tmp_path / "trace.json"
    code, report, stderr = project_json(
        root,
        "--all",
        "--backend",
        "postgresql",
        "--trace",
        "--trace-rows",
        "200",
        "--trace-database",
        _server_url(postgres_server),
        "--trace-output",
        str(out),
    )
    gate = report["gates"][0]
    assert code == 1, (gate["summary"], stderr)
    (finding,) = [f for f in gate["findings"] if f["code"] == "DJG240"]
    assert finding["object"] == "shop.0002_retype"
    assert finding["path"] == "shop/migrations/0002_retype.py"
    assert "shop_item" in finding["message"]
    assert "rewritten" in finding["message"]
    assert finding["severity"] == "error"
    trace = json.loads(out.read_text(encoding="utf-8"))
    assert trace["rows"] == 200
    assert trace["notes"] == []
    (op,) = _ops(trace, "shop.0002_retype")
    assert "shop_item" in op["rewritten"]
    assert op["held"]["shop_item"] == "AccessExclusiveLock"
    assert "200 rows per table" in gate["summary"]


@pytest.mark.postgres
def test_with_release_tags_the_trace_judges_a_release_as_the_rules_do(
    postgres_server: dict[str, object], tmp_path: Path
) -> None:
    """v1.1 creates the column and changes its type: one deploy, the column is new (no
    DJG208), and the trace, which sees the rewrite, calls nothing existing either (no
    DJG240). Without release tags each migration is its own deploy: DJG208, and the
    trace agrees."""
    import subprocess as sp

    add = migration(
        "shop", "0001_initial", 'migrations.AddField("item", "qty", models.IntegerField(null=True))'
    )
    widen = migration(
        "shop",
        "0002_add_qty",
        'migrations.AlterField("item", "qty", models.BigIntegerField(null=True))',
    )
    root = make_project(
        tmp_path / "proj",
        {
            "shop": simple_app(
                "    qty = models.BigIntegerField(null=True)\n",
                **{"0002_add_qty": add, "0003_widen_qty": widen},
            )
        },
    )
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    sp.run([*git, "init", "-q", "-b", "main"], cwd=root, check=True)
    sp.run([*git, "add", "."], cwd=root, check=True)
    sp.run([*git, "commit", "-q", "-m", "1.1"], cwd=root, check=True)
    sp.run([*git, "tag", "1.1"], cwd=root, check=True)
    args = ["--all", "--backend", "postgresql", "--trace", "--trace-database"]
    args.append(_server_url(postgres_server))
    code, report, stderr = project_json(
        root, *args, env={"DJANGO_GATES_MIGRATIONS_RELEASES": "tags"}
    )
    gate = report["gates"][0]
    assert code == 0, (gate, stderr)
    assert gate["findings"] == []
    assert "1 deploy from 1 release tag" in gate["summary"]
    code, report, stderr = project_json(root, *args)
    gate = report["gates"][0]
    assert code == 1, (gate, stderr)
    assert {f["code"] for f in gate["findings"]} == {"DJG208"}


def test_a_rule_the_trace_contradicts_is_reported_and_agreement_is_evidence() -> None:
    op = OpTrace(0, "AddIndex: Create index x on field(s) a of model t", line=10)
    trace = Trace(
        server="postgresql://pg",
        migrations=[MigrationTrace("app.0002_x", "m.py", True, operations=[op])],
    )
    static = Finding(
        code="DJG211",
        severity="error",
        message="builds an index",
        object="app.0002_x",
        path="m.py",
        line=10,
        hint="h",
    )
    annotated, extra = compare(trace, [static], lambda f: 0)
    assert [f.code for f in extra] == ["DJG241"]
    assert extra[0].severity == "warning"
    assert "DJG211 said it blocks" in extra[0].message
    assert annotated[0].message.startswith("builds an index [trace: no lock on an existing table")
    # Once the trace saw the SHARE lock, they agree.
    op.take("t", "ShareLock")
    op.existing.append("t")
    _, extra = compare(trace, [static], lambda f: 0)
    assert extra == []
    # A squash runs on empty databases only: never compared.
    trace.migrations[0].squashed = True
    op.held.clear()
    assert compare(trace, [static], lambda f: 0)[1] == []


BOOM = migration(
    "shop",
    "0001_initial",
    "migrations.RunPython(boom, migrations.RunPython.noop)",
    head=(
        "import os, pathlib, time\n\n\n"
        "def boom(apps, schema_editor):\n"
        "    # written whole, then renamed: a test polling for the marker never\n"
        "    # reads it half-written\n"
        "    marker = pathlib.Path(os.environ['DJG_MARKER'])\n"
        "    partial = marker.with_name(marker.name + '.partial')\n"
        "    partial.write_text(schema_editor.connection.settings_dict['NAME'])\n"
        "    partial.replace(marker)\n"
        "    if os.environ.get('DJG_SLEEP'):\n"
        "        time.sleep(60)\n"
        "    raise RuntimeError('boom in a data migration')\n"
    ),
)


@pytest.mark.postgres
def test_a_migration_that_fails_is_a_gate_error_and_the_database_is_dropped(
    postgres_server: dict[str, object], tmp_path: Path
) -> None:
    root = make_project(tmp_path / "proj", {"shop": simple_app(**{"0002_boom": BOOM})})
    marker = tmp_path / "marker"
    code, report, stderr = project_json(
        root,
        "--all",
        "--trace",
        "--trace-database",
        _server_url(postgres_server),
        env={"DJG_MARKER": str(marker)},
    )
    gate = report["gates"][0]
    assert code == 3, (gate, stderr)
    assert gate["status"] == "error"
    summary = gate["summary"]
    assert "shop.0002_boom (operation 1: RunPython" in summary
    assert "RuntimeError: boom in a data migration" in summary
    name = marker.read_text(encoding="utf-8")
    assert f"(scratch database {name} dropped)" in summary
    assert not _exists(postgres_server, name)


@pytest.mark.postgres
@pytest.mark.parametrize(("signum", "expected"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_during_a_trace_drops_the_database(
    postgres_server: dict[str, object], tmp_path: Path, signum: int, expected: int
) -> None:
    root = make_project(tmp_path / "proj", {"shop": simple_app(**{"0002_boom": BOOM})})
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest_django_gates",
            "--project",
            str(root),
            "migrations",
            "--settings",
            "proj_settings",
            "--all",
            "--trace",
            "--trace-database",
            _server_url(postgres_server),
        ],
        cwd=root,
        env=clean_env({"DJG_MARKER": str(marker), "DJG_SLEEP": "1"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        name = marker.read_text(encoding="utf-8")
        assert _exists(postgres_server, name)
        proc.send_signal(signum)
        _stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == expected, stderr
    assert stderr.strip().splitlines()[-1].startswith("django-gates: "), stderr
    assert "Traceback" not in stderr
    assert not _exists(postgres_server, name)


@pytest.mark.postgres
def test_an_unreachable_server_is_a_gate_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {"shop": simple_app()})
    code, report, _ = project_json(
        root, "--all", "--trace", "--trace-database", "postgres://postgres@127.0.0.1:9/postgres"
    )
    gate = report["gates"][0]
    assert code == 3
    assert gate["status"] == "error"
    assert "cannot reach PostgreSQL at postgresql://postgres@127.0.0.1:9" in gate["summary"]
    assert "scratch database" not in gate["summary"]  # none was created


@pytest.mark.postgres
def test_a_role_without_createdb_is_told_what_to_grant(
    postgres_server: dict[str, object], tmp_path: Path
) -> None:
    import psycopg

    params: dict[str, Any] = {
        "host": str(postgres_server["host"]),
        "port": int(str(postgres_server["port"])),
        "user": str(postgres_server["user"]),
        "dbname": "postgres",
        "autocommit": True,
    }
    role = "djg_trace_nocreatedb"
    with psycopg.connect(**params) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN NOCREATEDB")
    try:
        root = make_project(tmp_path / "proj", {"shop": simple_app()})
        url = f"postgres://{role}@{postgres_server['host']}:{postgres_server['port']}/postgres"
        code, report, _ = project_json(root, "--all", "--trace", "--trace-database", url)
        gate = report["gates"][0]
        assert code == 3
        assert (
            f"role '{role}' lacks CREATEDB; grant it (ALTER ROLE {role} CREATEDB)"
            in gate["summary"]
        )
    finally:
        with psycopg.connect(**params) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_trace_needs_a_postgresql_url(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {"shop": simple_app()})
    code, report, stderr = project_json(
        root, "--all", "--trace", "--trace-database", "sqlite:///tmp/x.db"
    )
    assert code == 2
    assert report == {}
    assert "the trace needs a PostgreSQL server" in stderr
    # and without any server: the options to set are named
    code, _, stderr = project_json(root, "--all", "--trace")
    assert code == 2
    assert "--trace-database" in stderr
    assert "DATABASE_URL" in stderr


@pytest.mark.postgres
def test_django_gates_run_traces_the_migrations_outside_pytest(
    postgres_server: dict[str, object], tmp_path: Path
) -> None:
    root = make_project(
        tmp_path / "proj",
        {"shop": simple_app(**{"0002_retype": RUNSQL_RETYPE})},
        pyproject=(
            '[tool.django-gates]\ngates = ["migrations"]\n\n'
            "[tool.django-gates.migrations]\n"
            'settings = "proj_settings"\nall = true\nbackend = "postgresql"\ntrace = true\n'
        ),
    )
    proc = cli(
        ["--project", str(root), "run", "--format", "json"],
        cwd=root,
        env={"DATABASE_URL": _server_url(postgres_server)},
    )
    report = json.loads(proc.stdout)
    (gate,) = report["gates"]
    assert proc.returncode == 1, proc.stderr
    assert "traced 2 operations of 2 migrations" in gate["summary"]
    assert [f["code"] for f in gate["findings"]] == ["DJG240"]


@pytest.mark.postgres
def test_django_gates_run_since_is_the_base_of_the_traced_migrations_gate(
    postgres_server: dict[str, object], tmp_path: Path
) -> None:
    """With the trace on, the migrations gate runs outside the suite and still takes
    ``django-gates run --since`` as its base, as it does inside the suite. (Found by
    running the reusable workflow under act: the gate fell back to
    origin/$GITHUB_BASE_REF, which the checkout did not have, and failed with exit 2.)"""
    root = make_project(
        tmp_path / "proj",
        {"shop": simple_app()},
        pyproject=(
            '[tool.django-gates]\ngates = ["migrations"]\n\n'
            "[tool.django-gates.migrations]\n"
            'settings = "proj_settings"\nbackend = "postgresql"\ntrace = true\n'
        ),
    )
    base = commit_all(root, "base")
    (root / "shop" / "migrations" / "0002_retype.py").write_text(RUNSQL_RETYPE, encoding="utf-8")
    commit_all(root, "retype")
    proc = cli(
        ["--project", str(root), "run", "--since", base, "--format", "json"],
        cwd=root,
        # A pull request whose base branch the clone does not have as origin/main.
        env={"DATABASE_URL": _server_url(postgres_server), "GITHUB_BASE_REF": "main"},
    )
    assert proc.stdout, proc.stderr
    (gate,) = json.loads(proc.stdout)["gates"]
    assert proc.returncode == 1, proc.stderr
    assert f"1 of 2 migrations checked (added since {base}" in gate["summary"]
    assert "traced 1 operations of 1 migrations on PostgreSQL" in gate["summary"]
    assert [(f["code"], f["object"]) for f in gate["findings"]] == [("DJG240", "shop.0002_retype")]


def test_under_pytest_the_trace_is_not_run_and_the_summary_says_so(tmp_path: Path) -> None:
    from pytest_django_gates import config, options
    from pytest_django_gates.migrations.request import build_request

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.django-gates.migrations]\ntrace = true\n", encoding="utf-8")
    cfg = config.load(options.OPTIONS, cli={}, environ={}, pyproject=pyproject)
    request = build_request(cfg, tmp_path, in_pytest=True, environ={})
    assert (request.trace, request.trace_requested) == (False, True)
    assert build_request(cfg, tmp_path, in_pytest=False, environ={}).trace is True
