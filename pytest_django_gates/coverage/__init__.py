"""The coverage gate's logic, in small modules.

* :mod:`.figures` - exact figures, floors and their comparison;
* :mod:`.data` - coverage data (a pytest session's, or files) to per-file figures;
* :mod:`.floors` - the floor configuration and the global / app / glob floors;
* :mod:`.apps` - files to Django apps through the app registry;
* :mod:`.patch` - changed lines since a git base, patch coverage;
* :mod:`.baseline` - the per-app ratchet;
* :mod:`.pytest_support` - the coverage of a pytest session (pytest-cov, xdist);
* :mod:`.codes` - the finding codes (``DJG4xx``).

The gate itself is :mod:`pytest_django_gates.gates.coverage`.
"""
