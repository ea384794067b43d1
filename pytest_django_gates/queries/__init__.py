"""Query capture, N+1 detection, query budgets and the per-test query baseline.

Nothing here imports Django at import time; :func:`capture.install` patches
Django's cursor and ORM entry points the first time a recorder is needed.
"""
