"""Fixtures of the django-gates CLI tests: see cli_support.py."""

from __future__ import annotations

from tests.cli.cli_support import gitleaks_binary, gitleaks_tarball, osv_server

__all__ = ["gitleaks_binary", "gitleaks_tarball", "osv_server"]
