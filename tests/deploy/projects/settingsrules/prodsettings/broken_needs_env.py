"""Bad input: needs a variable the check does not supply."""

import os

from .base import *  # noqa: F403

DATABASE_PASSWORD = os.environ["GATES_TEST_UNSET_DATABASE_PASSWORD"]
