"""``django-gates fix``: edit the code a finding names, then prove the edit.

A fix is offered only where a recipe is mechanical and provable (see
:mod:`pytest_django_gates.fix.recipes`, one module per finding code). Each edit is
made on the source text at the exact spans :mod:`ast` locates (no reformatting: the
comments and layout around it stay byte for byte), then proven
(:mod:`pytest_django_gates.fix.proof`); an edit that fails its proof is reverted byte
for byte and reported as not fixed, with why. The command lives in
:mod:`pytest_django_gates.fix.command`.
"""
