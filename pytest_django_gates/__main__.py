"""``python -m pytest_django_gates ...`` is ``django-gates ...``."""

from __future__ import annotations

from pytest_django_gates.cli import main

raise SystemExit(main())
