"""The deploy gate's machinery: settings probe, settings-source locator, rules, allows.

The gate itself is :mod:`pytest_django_gates.gates.deploy`. Nothing in this
package imports Django at module import time: Django is only imported inside
the probe subprocess (:mod:`pytest_django_gates.deploy.probe`) and inside the
settings rules' ``check`` functions, which only the probe calls.
"""
