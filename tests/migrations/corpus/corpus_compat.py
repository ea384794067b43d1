"""Small helpers shared by corpus migrations and models (Django 4.2 to 6.x)."""

from __future__ import annotations

from typing import Any

import django
from django.db import models


def check_constraint(q: models.Q, name: str) -> Any:
    """``CheckConstraint(condition=...)`` (Django >= 5.1) or ``check=`` (older)."""
    keyword = "condition" if django.VERSION >= (5, 1) else "check"
    return models.CheckConstraint(name=name, **{keyword: q})
