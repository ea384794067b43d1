"""pytest-django-gates: quality gates that stop a Django pull request from breaking production."""

__version__ = "0.1.0"
