"""Settings are split per environment; pick one with DJANGO_SETTINGS_MODULE.

- ``config.settings.local``: developer machines (DEBUG on).
- ``config.settings.test``: the test suite (fast hasher, in-memory cache).
- ``config.settings.production``: deployments (secrets from the environment).
"""
