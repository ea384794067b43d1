"""The same random data in every run of a test, so that its query count is the same.

A test whose data is random (``random.choice`` in a management command, Faker names,
factory_boy fuzzy sizes) runs a different number of queries from run to run, and its
query-count baseline (``DJG103``) would then fail it at random. Under
``pytest --django-gates`` with the queries gate on, before each test's setup (its
fixtures and ``setUpClass`` included), Python's ``random`` module is seeded from the
test's node id, and so are Faker's shared generator, factory_boy's and model_bakery's
when those are already imported (they are never imported here). The seed depends on
the node id only: not on the order, the xdist worker or the run.

``[tool.django-gates.queries] seed_random = false`` leaves ``random`` as it is. With
pytest-randomly active, its own per-test reseeding runs after this one and wins: the
counts then follow its seed (``-p randomly --randomly-seed=N`` fixes it).
"""

from __future__ import annotations

import random
import sys
import zlib


def seed_for(nodeid: str) -> int:
    return zlib.crc32(nodeid.encode("utf-8"))


def seed_random(nodeid: str) -> int:
    """Seed ``random`` (and Faker's, factory_boy's and model_bakery's generators when
    imported) for the
    test ``nodeid``; returns the seed."""
    seed = seed_for(nodeid)
    random.seed(seed)
    faker = sys.modules.get("faker")
    if faker is not None:
        seed_faker = getattr(getattr(faker, "Faker", None), "seed", None)
        if callable(seed_faker):
            seed_faker(seed)
    factory_random = sys.modules.get("factory.random")
    if factory_random is not None:
        reseed = getattr(factory_random, "reseed_random", None)
        if callable(reseed):
            reseed(seed)
    # model_bakery (1.x) draws from its own Random(), not from the random module.
    bakery = getattr(sys.modules.get("model_bakery.random_gen"), "baker_random", None)
    if isinstance(bakery, random.Random):
        bakery.seed(seed)
    return seed
