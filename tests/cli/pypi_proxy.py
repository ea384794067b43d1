"""A stand-in for pypi.org's JSON API behind an HTTPS proxy, for pip-audit's PyPI service.

pip-audit's PyPI service always asks ``https://pypi.org/pypi/<name>/<version>/json``.
To run the real pip-audit against answers the test chooses, the test points it
(``HTTPS_PROXY``) at this proxy on 127.0.0.1, which accepts ``CONNECT pypi.org:443``,
speaks TLS with a certificate for pypi.org issued by a throwaway CA made with the
``openssl`` command (trusted through ``REQUESTS_CA_BUNDLE``) and answers:

- ``blocked``: 404 for everything, what a proxy or firewall that blocks the JSON
  API does (and what the build machine's proxy does for the real pypi.org);
- otherwise a release listed in ``releases`` gets a JSON document without
  vulnerabilities, any other one 404 (a package that is not on PyPI).
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.cli.cli_support import QuietHandler, serving

HOST = "pypi.org"


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path


@dataclass
class FakePyPI:
    """The proxy's state: what it answers, and the releases it was asked about."""

    proxy_url: str
    ca_bundle: Path
    releases: set[tuple[str, str]] = field(default_factory=set)
    blocked: bool = False
    asked: list[tuple[str, str]] = field(default_factory=list)

    def env(self, cache: Path) -> dict[str, str]:
        """The environment that sends pip-audit here, with caches under ``cache``."""
        return {
            "HTTPS_PROXY": self.proxy_url,
            "https_proxy": self.proxy_url,
            "NO_PROXY": "",
            "no_proxy": "",
            "REQUESTS_CA_BUNDLE": str(self.ca_bundle),
            "PIP_CACHE_DIR": str(cache / "pip"),
            "XDG_CACHE_HOME": str(cache / "xdg"),
        }


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def pypi_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A throwaway CA and a certificate for pypi.org it signed (strict X.509, RFC 5280)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    where = tmp_path_factory.mktemp("pypi-certs")
    (where / "leaf.ext").write_text(
        f"subjectAltName = DNS:{HOST}\n"
        "basicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature, keyEncipherment\n"
        "extendedKeyUsage = serverAuth\n"
        "subjectKeyIdentifier = hash\n"
        "authorityKeyIdentifier = keyid\n",
        encoding="utf-8",
    )
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=django-gates test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash",
        cwd=where,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
        "-subj", f"/CN={HOST}",
        cwd=where,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext",
        cwd=where,
    )  # fmt: skip
    return Certificates(ca=where / "ca.pem", cert=where / "leaf.pem", key=where / "leaf.key")


def _handler(state: FakePyPI, tls: ssl.SSLContext) -> type[BaseHTTPRequestHandler]:
    class Api(QuietHandler):
        """One HTTPS connection to "pypi.org", inside the tunnel."""

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            if len(parts) != 4 or parts[0] != "pypi" or parts[3] != "json":
                self.send_error(404)
                return
            release = (parts[1], parts[2])
            state.asked.append(release)
            if state.blocked or release not in state.releases:
                self.reply(404)
                return
            document = {"info": {"name": release[0], "version": release[1]}, "vulnerabilities": []}
            self.reply(200, json.dumps(document).encode())

    class Proxy(QuietHandler):
        def do_CONNECT(self) -> None:
            if self.path != f"{HOST}:443":
                self.send_error(403, "this test proxy only tunnels to pypi.org")
                return
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            try:
                with tls.wrap_socket(self.connection, server_side=True) as inner:
                    Api(inner, self.client_address, self.server)
            except (ssl.SSLError, OSError):
                pass
            self.close_connection = True

    return Proxy


@pytest.fixture
def fake_pypi(pypi_certificates: Certificates) -> Iterator[FakePyPI]:
    """The proxy on 127.0.0.1; the test sets ``releases`` or ``blocked``."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(pypi_certificates.cert, pypi_certificates.key)
    state = FakePyPI(proxy_url="", ca_bundle=pypi_certificates.ca)
    with serving(_handler(state, tls)) as port:
        state.proxy_url = f"http://127.0.0.1:{port}"
        yield state
