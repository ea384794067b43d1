"""Fixtures of the GitHub Action tests: the ones of tests/cli (cli_support.py), and act's."""

from __future__ import annotations

from tests.action.act_support import act_env
from tests.cli.cli_support import gitleaks_binary, gitleaks_tarball, osv_server

__all__ = ["act_env", "gitleaks_binary", "gitleaks_tarball", "osv_server"]
