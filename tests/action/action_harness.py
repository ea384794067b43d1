"""Run a composite action's steps in order, the way the GitHub Actions runner does.

What is emulated (enough for action.yml, and checked strictly):

- inputs: declared defaults, given values, unknown or missing required inputs rejected;
- each ``run:`` step: ``bash --noprofile --norc -eo pipefail <script>`` (the runner's
  ``shell: bash``) in ``GITHUB_WORKSPACE``, with the job's environment, the step's
  ``env:`` (expressions evaluated), ``GITHUB_ACTION_PATH``, fresh ``GITHUB_OUTPUT``,
  ``GITHUB_ENV``, ``GITHUB_PATH`` and ``GITHUB_STEP_SUMMARY`` files per step; what a
  step writes to ``GITHUB_ENV`` / ``GITHUB_PATH`` is seen by the later steps, and
  its summary is appended to the job summary;
- ``if:`` conditions (``always()``, ``success()``, ``failure()``, ``==``, ``!=``,
  ``&&``, ``||``, ``!``, ``inputs.*``, ``steps.<id>.outputs.*`` and ``.outcome``);
- the action's ``outputs:`` from its steps' outputs.

``uses:`` steps (actions/setup-python) are not run: they are recorded as skipped,
with their ``if:`` evaluated, and the test provides the Python they would set up.
A ``run:`` script containing ``${{`` is refused: expressions belong in ``env:``.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|"
    r"(?P<call>[A-Za-z_][A-Za-z0-9_]*\(\))|(?P<name>[A-Za-z_][A-Za-z0-9_.-]*))"
)


@dataclass
class StepRun:
    name: str
    id: str | None
    skipped: bool
    uses: str | None = None
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        if self.skipped:
            return "skipped"
        return "success" if self.exit_code == 0 else "failure"


@dataclass
class ActionRun:
    steps: list[StepRun]
    outputs: dict[str, str]
    summary: str
    env: dict[str, str]

    @property
    def failed(self) -> bool:
        return any(s.outcome == "failure" for s in self.steps)

    def step(self, name: str) -> StepRun:
        for step in self.steps:
            if step.name == name or step.id == name:
                return step
        raise KeyError(name)

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)


def parse_file_commands(text: str) -> dict[str, str]:
    """``KEY=value`` lines and ``KEY<<DELIM`` heredocs, as in GITHUB_OUTPUT / GITHUB_ENV."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ValueError(f"unterminated heredoc for {key!r}")
            i += 1
            values[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
        else:
            raise ValueError(f"malformed file command line: {line!r}")
    return values


class _Expression:
    """A tiny evaluator for the expression syntax action.yml uses."""

    def __init__(self, text: str, context: Mapping[str, Any]) -> None:
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.context = context

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise ValueError(f"cannot parse expression {text!r} at {pos}")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def evaluate(self) -> Any:
        value = self._or()
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.pos]}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self.pos += 1
            right = self._and()
            left = left or right
        return left

    def _and(self) -> Any:
        left = self._cmp()
        while self._peek() == "&&":
            self.pos += 1
            right = self._cmp()
            left = left and right
        return left

    def _cmp(self) -> Any:
        left = self._unary()
        while self._peek() in ("==", "!="):
            op = self.tokens[self.pos][1]
            self.pos += 1
            right = self._unary()
            equal = str(left).lower() == str(right).lower()  # GitHub compares case-insensitively
            left = equal if op == "==" else not equal
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self.pos += 1
            return not self._unary()
        if self._peek() == "(":
            self.pos += 1
            value = self._or()
            assert self._peek() == ")"
            self.pos += 1
            return value
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "call":
            status = self.context["__status__"]
            return {
                "always()": True,
                "success()": status == "success",
                "failure()": status == "failure",
                "cancelled()": False,
            }[text]
        if text in ("true", "false"):
            return text == "true"
        found: Any = self.context
        for part in text.split("."):
            found = found.get(part, "") if isinstance(found, Mapping) else ""
        return found


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    return _Expression(expression, context).evaluate()


def interpolate(text: str, context: Mapping[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = evaluate(match.group(1), context)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return _EXPR.sub(replace, str(text))


def run_action(
    action_dir: Path,
    *,
    inputs: Mapping[str, str],
    workspace: Path,
    runner_temp: Path,
    env: Mapping[str, str],
) -> ActionRun:
    """Run ``action_dir/action.yml`` like a job step ``uses: ./`` with ``with: inputs``."""
    action = YAML(typ="safe").load((action_dir / "action.yml").read_text(encoding="utf-8"))
    declared: dict[str, Any] = action.get("inputs") or {}
    unknown = set(inputs) - set(declared)
    if unknown:
        raise ValueError(f"unknown inputs: {sorted(unknown)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in inputs:
            values[name] = inputs[name]
        elif spec.get("required") and "default" not in spec:
            raise ValueError(f"missing required input {name}")
        else:
            values[name] = str(spec.get("default", ""))
    assert action["runs"]["using"] == "composite"

    job_env = dict(env)
    extra_path: list[str] = []
    steps_ctx: dict[str, dict[str, Any]] = {}
    runs: list[StepRun] = []
    summary = ""
    status = "success"
    files = runner_temp / "_runner_file_commands"
    files.mkdir(parents=True, exist_ok=True)
    for index, step in enumerate(action["runs"]["steps"]):
        name = step.get("name") or f"step {index}"
        context = {
            "inputs": values,
            "steps": steps_ctx,
            "github": {"action_path": str(action_dir), "workspace": str(workspace)},
            "runner": {"temp": str(runner_temp), "os": "Linux", "arch": "X64"},
            "env": job_env,
            "__status__": status,
        }
        condition = str(step.get("if", "success()"))
        condition = _EXPR.sub(lambda m: m.group(1), condition)
        if not re.search(r"\b(always|success|failure|cancelled)\(\)", condition):
            condition = f"success() && ({condition})"
        should_run = bool(evaluate(condition, context))
        step_id = step.get("id")
        if not should_run or "uses" in step:
            record = StepRun(name=name, id=step_id, skipped=True, uses=step.get("uses"))
            runs.append(record)
            if step_id:
                steps_ctx[step_id] = {"outputs": {}, "outcome": "skipped"}
            continue
        script = str(step["run"])
        if "${{" in script:
            raise AssertionError(f"step {name!r}: expressions inside run: are not allowed")
        assert step.get("shell") == "bash", f"step {name!r} must say shell: bash"
        paths = {
            key: files / f"{index}_{key.lower()}"
            for key in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
        }
        for path in paths.values():
            path.write_text("", encoding="utf-8")
        script_file = files / f"{index}_script.sh"
        script_file.write_text(script, encoding="utf-8")
        step_env = dict(job_env)
        step_env["PATH"] = os.pathsep.join([*reversed(extra_path), job_env.get("PATH", "")])
        step_env.update({k: str(v) for k, v in paths.items()})
        step_env["GITHUB_ACTION_PATH"] = str(action_dir)
        step_env["GITHUB_WORKSPACE"] = str(workspace)
        step_env["RUNNER_TEMP"] = str(runner_temp)
        step_env.setdefault("RUNNER_OS", "Linux")
        step_env.setdefault("RUNNER_ARCH", "X64")
        for key, raw in (step.get("env") or {}).items():
            step_env[key] = interpolate(str(raw), context)
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=workspace,
            env=step_env,
            capture_output=True,
            text=True,
            check=False,
        )
        outputs = parse_file_commands(paths["GITHUB_OUTPUT"].read_text(encoding="utf-8"))
        job_env.update(parse_file_commands(paths["GITHUB_ENV"].read_text(encoding="utf-8")))
        extra_path.extend(
            line for line in paths["GITHUB_PATH"].read_text(encoding="utf-8").splitlines() if line
        )
        summary += paths["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8")
        record = StepRun(
            name=name,
            id=step_id,
            skipped=False,
            exit_code=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            outputs=outputs,
        )
        runs.append(record)
        if step_id:
            steps_ctx[step_id] = {"outputs": outputs, "outcome": record.outcome}
        if proc.returncode != 0:
            status = "failure"
    final_context = {"steps": steps_ctx, "inputs": values, "__status__": status}
    outputs = {
        name: interpolate(str(spec.get("value", "")), final_context)
        for name, spec in (action.get("outputs") or {}).items()
    }
    return ActionRun(steps=runs, outputs=outputs, summary=summary, env=job_env)
