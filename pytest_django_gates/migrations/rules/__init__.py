"""One module per rule; :mod:`pytest_django_gates.migrations.registry` collects them."""
