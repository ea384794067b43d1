"""``django-gates``: run gates and render reports, exactly as CI does.

Exit codes (a stable contract): 0 every gate passed, 1 a gate failed,
2 usage or configuration error, 3 a gate could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_django_gates import __version__, config, interrupts, options
from pytest_django_gates.config import ConfigError
from pytest_django_gates.gates import GateContext, gate_module, run_gate
from pytest_django_gates.render import RENDERERS, render, summary_table
from pytest_django_gates.report import (
    EXIT_USAGE,
    Report,
    ReportError,
    exit_code,
    merge_reports,
)

# sub-command -> gate name, for the commands that run one gate.
GATE_COMMANDS: dict[str, str] = {
    "migrations": "migrations",
    "deploy-check": "deploy",
    "coverage": "coverage",
}

# The one-line help of each command. It is the first line of the module's
# docstring (a test keeps them equal); it is written here so that the parser
# imports only the module of the command being run: ``django-gates migrations``
# does not pay for importing the coverage gate, the runner, or pytest.
COMMAND_HELP: dict[str, str] = {
    "init": "Write the [tool.django-gates] table that fits an existing project.",
    "fix": "Fix the N+1s and migrations the gates report, and prove each fix.",
    "report": "Render or merge JSON reports (shards merge into one).",
    "run": "Run every enabled gate (ruff, mypy, gitleaks, pip-audit, the test suite).",
    "migrations": "Check migrations for zero-downtime safety on PostgreSQL (locks, rewrites, "
    "old code).",
    "deploy-check": "Check production settings: Django's deployment checks plus production "
    "rules it lacks.",
    "coverage": "Check coverage floors: global, per Django app, per glob, on changed lines, "
    "and a ratchet.",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # pragma: no cover - argparse plumbing
        self.print_usage(sys.stderr)
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


def _add_project_argument(parser: argparse.ArgumentParser) -> None:
    # --project after the sub-command too (django-gates migrations --project DIR);
    # SUPPRESS keeps the one given before the sub-command when this one is absent.
    parser.add_argument(
        "--project",
        type=Path,
        default=argparse.SUPPRESS,
        help="Project directory (also accepted before the command).",
    )


def _add_output_arguments(parser: argparse.ArgumentParser) -> None:
    _add_project_argument(parser)
    parser.add_argument(
        "--format",
        choices=sorted(RENDERERS),
        default="text",
        help="How to print the result (default: text).",
    )
    parser.add_argument(
        "--output", "-o", type=Path, help="Write the rendered result here instead of stdout."
    )
    parser.add_argument(
        "--report", type=Path, help="Also write the JSON report (format 1) to this path."
    )
    parser.add_argument(
        "--path-prefix",
        default="",
        metavar="DIR",
        help="The project's directory inside the repository (e.g. backend/): put before "
        "file paths in the markdown, sarif and github formats, which need repository paths.",
    )


def chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (the first word that is not an option)."""
    words = iter(argv)
    for word in words:
        if word == "--project":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``django-gates`` parser, with the arguments of ``command`` only.

    Every command is listed (for ``--help``), but only the chosen one's module is
    imported to add its arguments (none when ``command`` is None or unknown).
    """
    parser = _Parser(prog="django-gates", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--project",
        type=Path,
        default=None,
        help="Project directory (default: the nearest directory with a pyproject.toml).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    init = sub.add_parser("init", help=COMMAND_HELP["init"])
    if command == "init":
        from pytest_django_gates import init as init_command

        init_command.add_arguments(init)
    _add_project_argument(init)

    fix = sub.add_parser("fix", help=COMMAND_HELP["fix"])
    if command == "fix":
        from pytest_django_gates.fix import command as fix_command

        fix_command.add_arguments(fix)
    _add_project_argument(fix)

    report = sub.add_parser("report", help=COMMAND_HELP["report"])
    if command == "report":
        report.add_argument("files", nargs="+", type=Path, metavar="FILE")
        report.add_argument(
            "--shards",
            type=_positive,
            metavar="N",
            help="The files include the reports of a suite split in N shards (--gates-shard "
            "K/N): merge them into the unsharded verdict; a shard with no report makes it an "
            "error.",
        )
        report.add_argument(
            "--update-query-baseline",
            type=Path,
            metavar="PATH",
            help="With --shards: write the query baseline at PATH from every shard's counts "
            "(each shard run with --gates-update-baseline), as one unsharded update would.",
        )
    _add_output_arguments(report)

    run = sub.add_parser("run", help=COMMAND_HELP["run"])
    if command == "run":
        from pytest_django_gates import runner

        runner.add_arguments(run)
    _add_output_arguments(run)

    for name, gate in GATE_COMMANDS.items():
        p = sub.add_parser(name, help=COMMAND_HELP[name])
        if command == name:
            gate_module(gate).add_arguments(p)
        _add_output_arguments(p)
    return parser


def _emit(report: Report, args: argparse.Namespace) -> None:
    """Print (or write) the result and the report. A file that cannot be written is a
    usage error raised after everything else was done: the results are still shown
    (on stdout when ``--output`` is the file that failed)."""
    from pytest_django_gates.report import WriteError, atomic_write_text

    text = render(report, args.format, path_prefix=args.path_prefix)
    failures: list[WriteError] = []
    if args.output:
        try:
            atomic_write_text(args.output, text)
        except WriteError as exc:
            failures.append(exc)
            sys.stdout.write(text)
    else:
        sys.stdout.write(text)
    if args.report:
        try:
            report.write(args.report)
        except WriteError as exc:
            failures.append(exc)
    if failures:
        raise WriteError("; ".join(str(f) for f in failures))


def _project_dir(args: argparse.Namespace) -> tuple[Path, Path | None]:
    if args.project is not None:
        root = args.project.resolve()
        if not root.is_dir():
            raise ConfigError(f"--project {args.project}: not a directory")
        pyproject = root / "pyproject.toml"
        return root, pyproject if pyproject.is_file() else None
    pyproject = config.find_pyproject(Path.cwd())
    return (pyproject.parent if pyproject else Path.cwd()), pyproject


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(chosen_command(words))
    try:
        args = parser.parse_args(words)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "init":
            from pytest_django_gates import init as init_command

            root, _ = _project_dir(args)
            if args.project is None:
                root = Path.cwd().resolve()  # init writes here, not in a parent's pyproject
            return init_command.run(args, root, sys.stdout)
        if args.command == "fix":
            from pytest_django_gates.fix import command as fix_command

            root, pyproject = _project_dir(args)
            cfg = config.load(
                options.OPTIONS,
                cli=fix_command.cli_overrides(args),
                environ=os.environ,
                pyproject=pyproject,
            )
            with interrupts.terminate_as_interrupt():
                return fix_command.run(args, cfg, root, sys.stdout, sys.stderr)
        if args.command == "report":
            reports = [Report.load(path) for path in args.files]
            if args.shards is not None:
                from pytest_django_gates import shards

                named = [(str(p), r) for p, r in zip(args.files, reports, strict=True)]
                report = shards.merge(named, args.shards)
                if args.update_query_baseline is not None:
                    written = shards.update_query_baseline(
                        named, args.shards, args.update_query_baseline
                    )
                    print(
                        f"query baseline updated from {args.shards} shards' counts "
                        f"({written} tests): {args.update_query_baseline}",
                        file=sys.stderr,
                    )
            else:
                if args.update_query_baseline is not None:
                    raise ReportError("--update-query-baseline merges shards: give --shards N")
                for path, one in zip(args.files, reports, strict=True):
                    if one.shard is not None and len(reports) > 1:
                        # Merged as plain reports, a shard's findings would stay ungrouped
                        # and its unused allows would count as unused.
                        raise ReportError(
                            f"{path} is the report of one shard of a split suite: merge "
                            "every shard's report with --shards N"
                        )
                report = merge_reports(reports)
        elif args.command == "run":
            from pytest_django_gates import runner

            root, pyproject = _project_dir(args)
            cfg = config.load(
                options.OPTIONS,
                cli=runner.cli_overrides(args),
                environ=os.environ,
                pyproject=pyproject,
            )
            with interrupts.terminate_as_interrupt():  # SIGTERM unwinds like Ctrl-C
                outcome = runner.run_command(args, cfg, root)
            report = outcome.report
            _emit(report, args)
            table = summary_table(report, outcome.durations)
            if args.format == "text" and not args.output:
                sys.stdout.write("\n" + table)
            else:
                sys.stderr.write(table)
            return exit_code(report)
        else:
            gate = GATE_COMMANDS[args.command]
            root, pyproject = _project_dir(args)
            overrides: dict[str, Any] = gate_module(gate).cli_overrides(args)
            cfg = config.load(
                options.OPTIONS, cli=overrides, environ=os.environ, pyproject=pyproject
            )
            # Whatever the project prints while its settings load ("Loading environment
            # from .env") goes to stderr: stdout carries the result alone (--format json).
            with contextlib.redirect_stdout(sys.stderr):
                result, _ = run_gate(gate, GateContext(config=cfg, rootdir=root))
            report = Report(gates=(result,))
        _emit(report, args)
    except (ConfigError, ReportError) as exc:
        print(f"django-gates: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM where a step asked for it
        code = interrupts.exit_code(exc)
        what = "terminated (SIGTERM)" if code == interrupts.EXIT_TERMINATED else "interrupted"
        print(f"django-gates: {what}; nothing was reported", file=sys.stderr)
        return code
    return exit_code(report)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of shards (1 or more), got {text!r}")
    return value


def entry_point() -> None:  # pragma: no cover - console script shim
    raise SystemExit(main())
