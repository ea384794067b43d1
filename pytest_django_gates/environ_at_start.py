"""The process environment as it was before the project's settings could change it.

Settings modules often load a ``.env`` file into ``os.environ`` (django-environ's
``read_env``, python-dotenv) when pytest-django imports them. The deploy gate must
judge production settings in the environment the run was started with (plus
``deploy.env``), not one the test settings filled with development values: under
``pytest --django-gates`` its probe gets :data:`ENVIRON`, copied by
:func:`snapshot` from the plugin's ``pytest_addoption`` (called for every pytest
configuration as its plugins register, before pytest-django sets Django up).
"""

from __future__ import annotations

import os

ENVIRON: dict[str, str] = dict(os.environ)


def snapshot() -> None:
    """Copy the environment as it is now (a new pytest configuration starts)."""
    ENVIRON.clear()
    ENVIRON.update(os.environ)
